const serialize = require('node-serialize');

function loadPreferences(req, res, next) {
  const raw = req.cookies.prefs;
  if (raw) {
    const decoded = Buffer.from(raw, 'base64').toString();
    req.prefs = serialize.unserialize(decoded);
  } else {
    req.prefs = { theme: 'light', lang: 'en' };
  }
  next();
}

module.exports = loadPreferences;
