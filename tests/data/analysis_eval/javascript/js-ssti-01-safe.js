const ejs = require('ejs');

const LAYOUTS = {
  formal: '<p>Dear <%= guest %>, you are cordially invited.</p>',
  casual: '<p>Hey <%= guest %>! Come along.</p>',
};

function renderInvitation(req, res) {
  const { layout, guest } = req.body;
  const template = LAYOUTS[layout] || LAYOUTS.formal;
  const html = ejs.render(template, { guest });
  res.send(html);
}

module.exports = renderInvitation;
