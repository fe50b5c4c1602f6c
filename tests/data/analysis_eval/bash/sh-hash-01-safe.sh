#!/bin/bash
set -eu

artifact="$1"
expected="$(cut -d' ' -f1 < "$artifact.sha256")"
actual="$(sha256sum -- "$artifact" | cut -d' ' -f1)"
if [ "$actual" != "$expected" ]; then
    echo "checksum mismatch for $artifact" >&2
    exit 1
fi
tar -xzf "$artifact" -C /opt/releases
