import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function cloneForScan(repoUrl: string): string {
  const url = new URL(repoUrl);
  if (url.protocol !== 'https:') throw new Error('only https repositories are supported');
  const dir = mkdtempSync(join(tmpdir(), 'scan-'));
  execFileSync('git', ['clone', '--depth', '1', '--', url.href, dir], { stdio: 'ignore', timeout: 60_000 });
  return dir;
}
