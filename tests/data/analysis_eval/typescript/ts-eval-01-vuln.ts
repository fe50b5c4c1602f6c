import vm from 'node:vm';

export function applyTransform(script: string, record: Record<string, unknown>): unknown {
  const sandbox = { record, result: undefined as unknown };
  vm.runInNewContext(`result = (${script})(record)`, sandbox, { timeout: 50 });
  return sandbox.result;
}
