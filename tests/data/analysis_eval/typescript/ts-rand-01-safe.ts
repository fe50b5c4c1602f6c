import { randomInt } from 'node:crypto';

export function verificationCode(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let code = '';
  for (let i = 0; i < 8; i++) code += alphabet[randomInt(alphabet.length)];
  return code;
}

export async function sendVerification(mailer: { send(to: string, body: string): Promise<void> }, email: string) {
  const code = verificationCode();
  await mailer.send(email, `Your code is ${code}`);
  return code;
}
