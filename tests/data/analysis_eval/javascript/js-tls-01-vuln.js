const https = require('https');
const axios = require('axios');

const idp = axios.create({
  baseURL: 'https://sso.example.org/oauth2',
  httpsAgent: new https.Agent({ rejectUnauthorized: false, keepAlive: true }),
  timeout: 5000,
});

async function exchangeCode(code, clientId, clientSecret) {
  const { data } = await idp.post('/token', new URLSearchParams({
    grant_type: 'authorization_code', code, client_id: clientId, client_secret: clientSecret,
  }));
  return data;
}

module.exports = { exchangeCode };
