const axios = require('axios');
const dns = require('dns').promises;
const net = require('net');

const PRIVATE = [/^10\./, /^127\./, /^169\.254\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^0\./, /^::1$/, /^f[cd]/i, /^fe80/i];

async function testWebhook(req, res) {
  let url;
  try { url = new URL(req.body.callbackUrl); } catch { return res.status(400).end(); }
  if (url.protocol !== 'https:' || net.isIP(url.hostname)) return res.status(400).end();
  const addrs = await dns.lookup(url.hostname, { all: true });
  if (addrs.some((a) => PRIVATE.some((re) => re.test(a.address)))) return res.status(400).end();
  const r = await axios.post(url.href, { event: 'ping', at: Date.now() }, { timeout: 4000, maxRedirects: 0 });
  res.json({ delivered: true, status: r.status });
}

module.exports = testWebhook;
