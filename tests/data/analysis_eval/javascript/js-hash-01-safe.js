const crypto = require('crypto');

async function register(db, email, password) {
  const salt = crypto.randomBytes(16);
  const hash = crypto.scryptSync(password, salt, 64);
  await db.query('INSERT INTO users (email, pw) VALUES ($1, $2)', [email, salt.toString('hex') + ':' + hash.toString('hex')]);
}

async function verify(db, email, password) {
  const { rows } = await db.query('SELECT pw FROM users WHERE email = $1', [email]);
  if (rows.length !== 1) return false;
  const [saltHex, hashHex] = rows[0].pw.split(':');
  const actual = crypto.scryptSync(password, Buffer.from(saltHex, 'hex'), 64);
  return crypto.timingSafeEqual(actual, Buffer.from(hashHex, 'hex'));
}

module.exports = { register, verify };
