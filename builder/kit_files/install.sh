#!/usr/bin/env bash
# Install Bastion from this offline kit: no network, no compiler.
#
#   ./install.sh                 verify the kit, create the venv, install, unpack the bundle, run `bastion doctor`
#
# Environment:
#   PYTHON          interpreter for the venv (default: python3; must match the kit's Python version)
#   BASTION_PREFIX  where the venv goes (default: ~/.local/share/bastion/venv)
#   BASTION_BIN     where `bastion` is linked (default: ~/.local/bin; set to "" to skip the link)
#   BASTION_HOME    Bastion's data directory; the bundle goes to $BASTION_HOME/bundles/NAME
set -euo pipefail

KIT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PYTHON:-python3}"
PREFIX="${BASTION_PREFIX:-$HOME/.local/share/bastion/venv}"
BIN_DIR="${BASTION_BIN-$HOME/.local/bin}"

say() { echo "· $*"; }

say "verifying the kit"
"$PY" "$KIT/verify_kit.py" "$KIT"

# The kit is self-contained: ignore any pip configuration or index on this machine.
export PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_CONSTRAINT PIP_REQUIREMENT 2>/dev/null || true

EXTRAS="$("$PY" -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["extras"]))' "$KIT/kit.json")"
BUNDLE="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["bundle"] or "")' "$KIT/kit.json")"
# The name becomes a directory that may be moved or removed below: only a plain name is accepted.
if [ -n "$BUNDLE" ] && ! [[ "$BUNDLE" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]]; then
  echo "install.sh: the kit's bundle name is not a plain name; refusing to install it (the kit is damaged or hostile)" >&2
  exit 1
fi
SIGNER="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("bundle_signer") or "")' "$KIT/kit.json")"
if [ -n "$SIGNER" ] && ! [[ "$SIGNER" =~ ^ed25519:[A-Za-z0-9+/]{43}=( [A-Za-z0-9._-]{1,64})?$ ]]; then
  echo "install.sh: kit.json names a bundle signer that is not an Ed25519 public key; refusing" >&2
  exit 1
fi
WHEEL="$(ls "$KIT"/wheels/bastion-*.whl | head -n1)"
SPEC="$WHEEL"
[ -n "$EXTRAS" ] && SPEC="$WHEEL[$EXTRAS]"

if [ ! -x "$PREFIX/bin/python" ]; then
  say "creating the virtual environment $PREFIX"
  "$PY" -m venv "$PREFIX"
fi
say "installing $(basename "$WHEEL")${EXTRAS:+ [$EXTRAS]} from the kit (pip --no-index)"
"$PREFIX/bin/python" -m pip install --no-index --find-links "$KIT/wheels" "$SPEC"

if [ -n "$BIN_DIR" ]; then
  mkdir -p "$BIN_DIR"
  ln -sf "$PREFIX/bin/bastion" "$BIN_DIR/bastion"
  say "linked $BIN_DIR/bastion"
fi

if [ -n "$SIGNER" ]; then
  # kit.json is covered by the kit fingerprint printed above: trusting its signer is trusting this kit.
  say "trusting the bundle signer ${SIGNER%% *} named in kit.json"
  "$PREFIX/bin/bastion" bundle trust "$SIGNER" --name "kit-$BUNDLE" >/dev/null
fi

if [ -n "$BUNDLE" ]; then
  HOME_DIR="$("$PREFIX/bin/python" -c 'from app import paths; print(paths.bundles_dir())')"
  DEST="$HOME_DIR/$BUNDLE"
  if [ -e "$DEST" ] && "$PREFIX/bin/bastion" bundle verify "$DEST" >/dev/null 2>&1; then
    say "bundle $BUNDLE already installed and verified at $DEST"
  else
    if [ -e "$DEST" ]; then
      say "moving the old, unverified $DEST aside to $DEST.old"
      rm -rf "$DEST.old" && mv "$DEST" "$DEST.old"
    fi
    say "unpacking and verifying bundle $BUNDLE"
    "$PREFIX/bin/bastion" bundle unpack "$KIT/bundle/$BUNDLE.tar" "$DEST"
  fi
  if [ "$BUNDLE" != "starter" ]; then
    say "to use it, set  bundle = \"$DEST\"  in Bastion's config.toml (or export BASTION_BUNDLE=$DEST)"
    export BASTION_BUNDLE="$DEST"
  fi
fi

say "bastion doctor"
if [ -n "$BUNDLE" ]; then
  "$PREFIX/bin/bastion" doctor
else
  "$PREFIX/bin/bastion" doctor --no-probe || say "no bundle in this kit: copy one and run \`bastion bundle unpack ARCHIVE\`"
fi
say "done: run $PREFIX/bin/bastion"
