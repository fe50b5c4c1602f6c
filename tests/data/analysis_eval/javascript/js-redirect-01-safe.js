const ORIGIN = 'https://app.example.com';

function logout(req, res) {
  let target = '/';
  try {
    const u = new URL(req.query.returnTo || '/', ORIGIN);
    if (u.origin === ORIGIN) target = u.pathname + u.search;
  } catch (e) {
    target = '/';
  }
  req.session.destroy(() => {
    res.clearCookie('sid');
    res.redirect(target);
  });
}

module.exports = logout;
