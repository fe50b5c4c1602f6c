const { execFile } = require('child_process');
const path = require('path');

function makeThumbnail(req, res) {
  const src = path.join('/srv/uploads', path.basename(req.body.filename));
  const out = src.replace(/\.\w+$/, '') + '_thumb.png';
  execFile('convert', [src, '-resize', '200x200', out], (err) => {
    if (err) return res.status(500).send('conversion failed');
    res.json({ thumbnail: path.basename(out) });
  });
}

module.exports = makeThumbnail;
