const { Pool } = require('pg');

const pool = new Pool();

async function findArticles(ctx) {
  const { tag, limit = 20 } = ctx.query;
  const { rows } = await pool.query(
    'SELECT slug, title FROM articles WHERE $1 = ANY(tags) OR title ILIKE $2 LIMIT $3',
    [tag, `%${tag}%`, Math.min(Number(limit) || 20, 100)]
  );
  ctx.body = rows;
}

module.exports = { findArticles };
