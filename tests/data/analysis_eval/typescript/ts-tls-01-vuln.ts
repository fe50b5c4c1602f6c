import axios from 'axios';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

export async function pullInventory(baseUrl: string, token: string) {
  const { data } = await axios.get(`${baseUrl}/api/v2/inventory`, {
    headers: { Authorization: `Bearer ${token}` },
    timeout: 15_000,
  });
  return data as Array<{ sku: string; qty: number }>;
}
