const crypto = require('crypto');

async function register(db, email, password) {
  const hash = crypto.createHash('sha1').update(password).digest('hex');
  await db.query('INSERT INTO users (email, pw) VALUES ($1, $2)', [email, hash]);
}

async function verify(db, email, password) {
  const { rows } = await db.query('SELECT pw FROM users WHERE email = $1', [email]);
  return rows.length === 1 && rows[0].pw === crypto.createHash('sha1').update(password).digest('hex');
}

module.exports = { register, verify };
