import Stripe from 'stripe';

const key = process.env.STRIPE_SECRET_KEY;
if (!key) throw new Error('STRIPE_SECRET_KEY is not set');
const stripe = new Stripe(key, { apiVersion: '2024-06-20' });

export async function createCheckout(priceId: string, customerEmail: string): Promise<string> {
  const session = await stripe.checkout.sessions.create({
    mode: 'subscription',
    line_items: [{ price: priceId, quantity: 1 }],
    customer_email: customerEmail,
    success_url: 'https://app.example.com/billing/done',
    cancel_url: 'https://app.example.com/billing',
  });
  return session.url ?? '';
}
