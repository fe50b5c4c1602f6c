#!/usr/bin/env bash
# Install Bastion with the builder and test extras into .venv and run the whole suite.
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
bastion_venv "builder,serve,test"
"$VENV/bin/builder" setup            # cache the llama.cpp converter (the one download)
cd "$ROOT"
set +e
"$VENV/bin/python" -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$rc"
