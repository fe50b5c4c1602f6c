const crypto = require('crypto');

function generateApiKey(prefix = 'sk') {
  return prefix + '_' + crypto.randomBytes(30).toString('base64url');
}

async function createKey(db, userId) {
  const key = generateApiKey();
  await db.collection('api_keys').insertOne({ userId, key, createdAt: new Date() });
  return key;
}

module.exports = { createKey };
