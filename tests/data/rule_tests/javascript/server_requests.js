// Annotated cases written for this project: outgoing requests from an Express handler.
const axios = require('axios');
const http = require('http');

const ALLOWED_HOSTS = new Set(['api.example.com']);

app.get('/preview', async (req, res) => {
    // ruleid: js-ssrf
    const page = await axios.get(req.query.url);
    res.send(page.data);
});

app.get('/status', async (req, res) => {
    // ruleid: js-ssrf
    const r = await fetch(`${req.query.host}/status`);
    // ruleid: js-ssrf
    http.get(req.body.target, (upstream) => upstream.pipe(res));
    res.json(await r.json());
});

app.get('/item', async (req, res) => {
    // ok: js-ssrf
    const r = await fetch('https://api.example.com/items/' + encodeURIComponent(req.query.id));
    // ok: js-ssrf
    const s = await fetch(`https://api.example.com/items/${req.query.id}`);
    res.json([await r.json(), await s.json()]);
});

app.get('/checked', async (req, res) => {
    const target = new URL(req.query.url);
    if (!ALLOWED_HOSTS.has(target.hostname)) {
        return res.status(400).end();
    }
    // ok: js-ssrf
    const r = await fetch(target);
    res.json(await r.json());
});
