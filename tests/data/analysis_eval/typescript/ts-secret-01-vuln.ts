import Stripe from 'stripe';

const stripe = new Stripe('sk_live_51HxQ2bKz8Vd3mP0aT9rLwYc7eJ4nU6sF1gH2jK3lM4nO5pQ6', {
  apiVersion: '2024-06-20',
});

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
