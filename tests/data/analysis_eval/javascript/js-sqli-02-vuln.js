const { Pool } = require('pg');

const pool = new Pool();

async function findArticles(ctx) {
  const { tag, limit = 20 } = ctx.query;
  const { rows } = await pool.query(
    `SELECT slug, title FROM articles WHERE '${tag}' = ANY(tags) OR title ILIKE '%${tag}%' LIMIT ${Number(limit)}`
  );
  ctx.body = rows;
}

module.exports = { findArticles };
