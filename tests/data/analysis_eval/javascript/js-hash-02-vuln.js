const crypto = require('crypto');

const KEY = Buffer.from(process.env.COOKIE_KEY, 'hex').subarray(0, 8);

function sealSession(data) {
  const cipher = crypto.createCipheriv('des-ecb', KEY, null);
  return Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]).toString('base64');
}

function openSession(token) {
  const decipher = crypto.createDecipheriv('des-ecb', KEY, null);
  return JSON.parse(Buffer.concat([decipher.update(token, 'base64'), decipher.final()]).toString('utf8'));
}

module.exports = { sealSession, openSession };
