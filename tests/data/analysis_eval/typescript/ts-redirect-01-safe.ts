import type { Request, Response } from 'express';

const SECTIONS = ['/dashboard', '/settings', '/billing', '/projects'];

export async function oauthCallback(req: Request, res: Response): Promise<void> {
  const state = JSON.parse(Buffer.from(String(req.query.state), 'base64url').toString());
  const tokens = await (req.app.locals.oauth as { exchange(code: string): Promise<unknown> })
    .exchange(String(req.query.code));
  req.session.tokens = tokens;
  const wanted = typeof state.returnUrl === 'string' ? state.returnUrl : '';
  const target = SECTIONS.find((s) => wanted === s || wanted.startsWith(s + '/')) ? wanted : '/dashboard';
  res.redirect(302, target);
}
