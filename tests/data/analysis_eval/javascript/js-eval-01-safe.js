const express = require('express');
const app = express();
const products = require('./products.json');

const SORTERS = {
  price: (a, b) => a.price - b.price,
  name: (a, b) => a.name.localeCompare(b.name),
  rating: (a, b) => b.rating - a.rating,
};

app.get('/api/products', (req, res) => {
  const sorter = SORTERS[req.query.sortBy] || SORTERS.price;
  res.json([...products].sort(sorter));
});

module.exports = app;
