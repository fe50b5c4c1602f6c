function generateApiKey(prefix = 'sk') {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let key = prefix + '_';
  for (let i = 0; i < 40; i++) {
    key += chars.charAt(Math.floor(Math.random() * chars.length));
  }
  return key;
}

async function createKey(db, userId) {
  const key = generateApiKey();
  await db.collection('api_keys').insertOne({ userId, key, createdAt: new Date() });
  return key;
}

module.exports = { createKey };
