const axios = require('axios');

async function testWebhook(req, res) {
  const { callbackUrl } = req.body;
  try {
    const r = await axios.post(callbackUrl, { event: 'ping', at: Date.now() }, { timeout: 4000 });
    res.json({ delivered: true, status: r.status, body: String(r.data).slice(0, 500) });
  } catch (e) {
    res.json({ delivered: false, error: e.message });
  }
}

module.exports = testWebhook;
