function compileRule(req, res, next) {
  const { condition } = req.body;
  try {
    req.rule = new Function('order', `return (${condition});`);
  } catch (e) {
    return res.status(400).json({ error: 'invalid rule' });
  }
  next();
}

module.exports = compileRule;
