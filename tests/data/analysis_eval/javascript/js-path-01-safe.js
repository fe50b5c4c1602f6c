const express = require('express');
const path = require('path');

const app = express();
const DOCS = path.join(__dirname, 'public', 'docs');

app.get('/docs/:name', (req, res) => {
  res.sendFile(req.params.name, { root: DOCS, dotfiles: 'deny' }, (err) => {
    if (err) res.status(404).end();
  });
});

module.exports = app;
