const jwt = require('jsonwebtoken');

const JWT_SECRET = 'f3a1c9e07b2d4e6fa8c5d1b0e9f7a3c2';

function issueToken(user) {
  return jwt.sign({ sub: user.id, role: user.role }, JWT_SECRET, { expiresIn: '1h' });
}

function requireAuth(req, res, next) {
  try {
    req.user = jwt.verify((req.headers.authorization || '').replace('Bearer ', ''), JWT_SECRET);
    next();
  } catch (e) {
    res.sendStatus(401);
  }
}

module.exports = { issueToken, requireAuth };
