const fs = require('fs/promises');
const path = require('path');

const TEMPLATES = '/opt/mailer/templates';

async function previewTemplate(req, res) {
  const name = req.query.template;
  const full = path.resolve(TEMPLATES, name + '.hbs');
  if (!full.startsWith(TEMPLATES + path.sep)) {
    return res.status(400).send('bad template name');
  }
  const text = await fs.readFile(full, 'utf8');
  res.type('text/plain').send(text);
}

module.exports = previewTemplate;
