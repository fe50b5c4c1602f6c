# Shared by setup.sh and test.sh: create .venv and install Bastion into it.
# llama.cpp is compiled for this CPU without the native build: -DGGML_NATIVE=ON
# crashes with a general-protection fault on some CPUs with AMX inside VMs, so
# app/llm/cpu_build.py names the AVX-512 groups /proc/cpuinfo reports (never AMX).
# Override with CMAKE_ARGS (e.g. -DGGML_CUDA=on, -DGGML_METAL=on).
# pip's own wheel cache ignores CMAKE_ARGS, so the compiled wheel is kept in a
# folder keyed by the version and the flags: a change of either compiles again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BASTION_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
export CMAKE_ARGS="${CMAKE_ARGS:-$("$PY" "$ROOT/app/llm/cpu_build.py" 2>/dev/null || echo -DGGML_NATIVE=OFF)}"
LLAMA_SPEC="${LLAMA_SPEC:-llama-cpp-python==0.3.36}"
LLAMA_WHEELS="${BASTION_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bastion/llama-wheels}"

# Compile llama-cpp-python once per (version, flags) and install that wheel.
bastion_llama() {
  local key dir
  key="$(printf '%s|%s' "$LLAMA_SPEC" "$CMAKE_ARGS" | sha256sum | cut -c1-16)"
  dir="$LLAMA_WHEELS/$key"
  if [ -f "$VENV/.llama-build" ] && [ "$(cat "$VENV/.llama-build")" = "$key" ]; then
    return 0
  fi
  if ! ls "$dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "· compiling $LLAMA_SPEC with CMAKE_ARGS='$CMAKE_ARGS' (several minutes, once)"
    rm -rf "$dir.part"
    if ! "$VENV/bin/pip" wheel -q --no-deps --no-cache-dir --no-binary llama-cpp-python -w "$dir.part" "$LLAMA_SPEC"; then
      rm -rf "$dir.part"
      if [ "$CMAKE_ARGS" != "-DGGML_NATIVE=OFF" ]; then
        echo "· that build failed; falling back to portable flags" >&2
        CMAKE_ARGS="-DGGML_NATIVE=OFF" bastion_llama
        return
      fi
      return 1
    fi
    mkdir -p "$LLAMA_WHEELS" && rm -rf "$dir" && mv "$dir.part" "$dir"  # a half-built wheel is never picked up
  fi
  "$VENV/bin/pip" install -q --no-deps --force-reinstall "$dir"/llama_cpp_python-*.whl
  echo "$key" > "$VENV/.llama-build"
}

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
  bastion_llama
  echo "· installing bastion[$extras]"
  "$VENV/bin/pip" install -q -e "$ROOT[$extras]"
}
