import { execSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function cloneForScan(repoUrl: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'scan-'));
  execSync(`git clone --depth 1 ${repoUrl} ${dir}`, { stdio: 'ignore', timeout: 60_000 });
  return dir;
}
