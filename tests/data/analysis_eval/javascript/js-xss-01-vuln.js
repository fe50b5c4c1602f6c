const express = require('express');
const app = express();

app.get('/search', (req, res) => {
  const term = req.query.q || '';
  res.set('Content-Type', 'text/html');
  res.send(`<!doctype html>
<html><body>
  <p>No results for <b>${term}</b>.</p>
  <a href="/">Back</a>
</body></html>`);
});

module.exports = app;
