const { spawnSync } = require('child_process');

const BRANCH_RE = /^[A-Za-z0-9._\/-]{1,100}$/;

function deployBranch(payload, log) {
  const branch = payload.ref.replace('refs/heads/', '');
  if (!BRANCH_RE.test(branch) || branch.startsWith('-')) throw new Error('bad branch name');
  const opts = { cwd: '/srv/site', encoding: 'utf8' };
  for (const argv of [['git', 'fetch', 'origin'], ['git', 'checkout', branch, '--'], ['npm', 'run', 'build']]) {
    const r = spawnSync(argv[0], argv.slice(1), opts);
    log.info(r.stdout);
    if (r.status !== 0) return r.status;
  }
  return 0;
}

module.exports = { deployBranch };
