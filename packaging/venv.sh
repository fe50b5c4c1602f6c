# Shared by setup.sh and test.sh: create .venv and install Bastion into it.
# llama.cpp is compiled with portable flags: the default native build
# (-DGGML_NATIVE=ON) crashes with a general-protection fault on some CPUs with
# AMX inside VMs. Override with CMAKE_ARGS (e.g. -DGGML_CUDA=on, -DGGML_METAL=on).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BASTION_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"

bastion_venv() {
  local extras="$1"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "· creating $VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip wheel
  fi
  # torch: the CPU build (a bare `torch` would pull a multi-GB CUDA build).
  # On a GPU box set TORCH_SPEC to the CUDA build you want.
  if [[ "$extras" == *builder* ]]; then
    "$VENV/bin/pip" install -q "${TORCH_SPEC:-torch==2.13.0}"
  fi
  echo "· installing bastion[$extras] (first run compiles llama.cpp: several minutes)"
  "$VENV/bin/pip" install -q -e "$ROOT[$extras]"
}
