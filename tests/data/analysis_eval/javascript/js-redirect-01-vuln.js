function logout(req, res) {
  const target = req.query.returnTo || '/';
  req.session.destroy(() => {
    res.clearCookie('sid');
    res.redirect(target);
  });
}

module.exports = logout;
