const express = require('express');
const app = express();
const products = require('./products.json');

app.get('/api/products', (req, res) => {
  const key = req.query.sortBy || 'a.price - b.price';
  const sorter = eval('(function (a, b) { return ' + key + '; })');
  res.json([...products].sort(sorter));
});

module.exports = app;
