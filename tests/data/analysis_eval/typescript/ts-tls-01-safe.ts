import axios from 'axios';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';

const agent = new Agent({ ca: readFileSync(process.env.INVENTORY_CA ?? '/etc/ssl/inventory-ca.pem') });

export async function pullInventory(baseUrl: string, token: string) {
  const { data } = await axios.get(`${baseUrl}/api/v2/inventory`, {
    headers: { Authorization: `Bearer ${token}` },
    httpsAgent: agent,
    timeout: 15_000,
  });
  return data as Array<{ sku: string; qty: number }>;
}
