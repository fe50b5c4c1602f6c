import type { Request, Response } from 'express';

export async function oauthCallback(req: Request, res: Response): Promise<void> {
  const state = JSON.parse(Buffer.from(String(req.query.state), 'base64url').toString());
  const tokens = await (req.app.locals.oauth as { exchange(code: string): Promise<unknown> })
    .exchange(String(req.query.code));
  req.session.tokens = tokens;
  res.redirect(302, state.returnUrl ?? '/dashboard');
}
