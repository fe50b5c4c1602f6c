import type { NextApiRequest, NextApiResponse } from 'next';

const CDN_HOSTS = new Set(['images.examplecdn.com', 'static.examplecdn.com']);

export default async function imageProxy(req: NextApiRequest, res: NextApiResponse) {
  let src: URL;
  try {
    src = new URL(String(req.query.src ?? ''));
  } catch {
    res.status(400).end();
    return;
  }
  if (src.protocol !== 'https:' || !CDN_HOSTS.has(src.hostname)) {
    res.status(400).end();
    return;
  }
  const upstream = await fetch(src, { redirect: 'error' });
  if (!upstream.ok) {
    res.status(502).end();
    return;
  }
  res.setHeader('Content-Type', upstream.headers.get('content-type') ?? 'application/octet-stream');
  res.send(Buffer.from(await upstream.arrayBuffer()));
}
