import type { NextApiRequest, NextApiResponse } from 'next';

export default async function imageProxy(req: NextApiRequest, res: NextApiResponse) {
  const src = String(req.query.src ?? '');
  const upstream = await fetch(src);
  if (!upstream.ok) {
    res.status(502).end();
    return;
  }
  res.setHeader('Content-Type', upstream.headers.get('content-type') ?? 'application/octet-stream');
  res.send(Buffer.from(await upstream.arrayBuffer()));
}
