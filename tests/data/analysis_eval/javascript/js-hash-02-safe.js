const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

function fingerprintAsset(file) {
  const data = fs.readFileSync(file);
  const tag = crypto.createHash('md5').update(data).digest('hex').slice(0, 10);
  const ext = path.extname(file);
  return path.basename(file, ext) + '.' + tag + ext;
}

module.exports = fingerprintAsset;
