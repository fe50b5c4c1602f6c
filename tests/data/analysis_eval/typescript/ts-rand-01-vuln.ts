export function verificationCode(): string {
  return Math.random().toString(36).slice(2, 10).toUpperCase();
}

export async function sendVerification(mailer: { send(to: string, body: string): Promise<void> }, email: string) {
  const code = verificationCode();
  await mailer.send(email, `Your code is ${code}`);
  return code;
}
