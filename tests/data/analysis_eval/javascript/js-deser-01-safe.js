function loadPreferences(req, res, next) {
  const raw = req.cookies.prefs;
  const prefs = { theme: 'light', lang: 'en' };
  if (raw) {
    try {
      const decoded = JSON.parse(Buffer.from(raw, 'base64').toString());
      if (decoded.theme === 'dark' || decoded.theme === 'light') prefs.theme = decoded.theme;
      if (/^[a-z]{2}$/.test(decoded.lang)) prefs.lang = decoded.lang;
    } catch (e) {
      /* keep defaults */
    }
  }
  req.prefs = prefs;
  next();
}

module.exports = loadPreferences;
