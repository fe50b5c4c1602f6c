const express = require('express');
const app = express();

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ESC[c]);

app.get('/search', (req, res) => {
  const term = req.query.q || '';
  res.set('Content-Type', 'text/html');
  res.send(`<!doctype html>
<html><body>
  <p>No results for <b>${escapeHtml(term)}</b>.</p>
  <a href="/">Back</a>
</body></html>`);
});

module.exports = app;
