#!/usr/bin/env bash
# Install Bastion with the builder and test extras into .venv and run the whole suite.
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
bastion_venv "builder,serve,test"
"$VENV/bin/builder" setup            # cache the llama.cpp converter (the one download)
source "$(dirname "${BASH_SOURCE[0]}")/engines.sh"
bastion_engines                      # cppcheck, clang, shellcheck where apt-get allows
# tests/tui/test_tmux.py drives the real `bastion` in tmux; install it when we can.
if ! command -v tmux >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get install -y -qq tmux >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq tmux >/dev/null 2>&1; } || echo "tmux not installed: the tmux TUI test will skip" >&2
fi
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
