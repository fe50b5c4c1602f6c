const express = require('express');
const mysql = require('mysql2');

const router = express.Router();
const pool = mysql.createPool({ host: 'db', user: 'shop', database: 'shop' });

router.get('/orders/:id', (req, res) => {
  const sql = 'SELECT id, status, total FROM orders WHERE id = ? AND customer_id = ?';
  pool.query(sql, [req.params.id, req.session.customerId], (err, rows) => {
    if (err) return res.status(500).json({ error: 'db' });
    if (!rows.length) return res.sendStatus(404);
    res.json(rows[0]);
  });
});

module.exports = router;
