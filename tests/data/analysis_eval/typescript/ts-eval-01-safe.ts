type Mapping = Record<string, string>;

export function applyTransform(spec: string, record: Record<string, unknown>): unknown {
  const mapping: Mapping = JSON.parse(spec);
  const out: Record<string, unknown> = {};
  for (const [from, to] of Object.entries(mapping)) {
    if (typeof to !== 'string' || !Object.prototype.hasOwnProperty.call(record, from)) continue;
    out[to] = record[from];
  }
  return out;
}
