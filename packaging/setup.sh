#!/usr/bin/env bash
# Install everything into .venv and create the starter bundle if it is missing.
# Needs the package index once; afterwards Bastion runs fully offline.
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
bastion_venv "builder,serve"
"$VENV/bin/builder" setup
source "$(dirname "${BASH_SOURCE[0]}")/engines.sh"
bastion_engines                      # cppcheck, clang, shellcheck where apt-get allows
"$VENV/bin/builder" starter
echo "· ready: $VENV/bin/bastion"
