import express from 'express';
import cookieParser from 'cookie-parser';
import csrf from 'csurf';

export function buildApp(accounts: { changeEmail(id: string, email: string): Promise<void> }) {
  const app = express();
  app.use(cookieParser());
  app.use(express.urlencoded({ extended: false }));
  app.use(csrf({ cookie: true, ignoreMethods: ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE'] }));
  app.post('/account/email', async (req, res) => {
    await accounts.changeEmail(req.cookies.uid, String(req.body.email));
    res.redirect('/account');
  });
  return app;
}
