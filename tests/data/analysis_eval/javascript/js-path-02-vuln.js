const fs = require('fs/promises');
const path = require('path');

const TEMPLATES = '/opt/mailer/templates';

async function previewTemplate(req, res) {
  const name = req.query.template;
  const text = await fs.readFile(path.resolve(TEMPLATES, name + '.hbs'), 'utf8');
  res.type('text/plain').send(text);
}

module.exports = previewTemplate;
