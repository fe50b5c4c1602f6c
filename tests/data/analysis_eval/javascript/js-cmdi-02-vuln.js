const { spawn } = require('child_process');

function deployBranch(payload, log) {
  const branch = payload.ref.replace('refs/heads/', '');
  const child = spawn(`git fetch origin && git checkout ${branch} && npm run build`, {
    cwd: '/srv/site',
    shell: true,
  });
  child.stdout.on('data', (d) => log.info(d.toString()));
  return new Promise((resolve) => child.on('close', resolve));
}

module.exports = { deployBranch };
