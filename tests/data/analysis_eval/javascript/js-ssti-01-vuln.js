const ejs = require('ejs');

function renderInvitation(req, res) {
  const { template, guest } = req.body;
  const html = ejs.render(template || '<p>Dear <%= guest %>, you are invited.</p>', { guest });
  res.send(html);
}

module.exports = renderInvitation;
