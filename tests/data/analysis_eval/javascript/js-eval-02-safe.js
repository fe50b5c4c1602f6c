const OPS = {
  eq: (a, b) => a === b,
  gt: (a, b) => a > b,
  lt: (a, b) => a < b,
  in: (a, b) => Array.isArray(b) && b.includes(a),
};

function compileRule(req, res, next) {
  const { field, op, value } = req.body.condition || {};
  if (typeof field !== 'string' || !Object.prototype.hasOwnProperty.call(OPS, op)) {
    return res.status(400).json({ error: 'invalid rule' });
  }
  req.rule = (order) => OPS[op](order[field], value);
  next();
}

module.exports = compileRule;
