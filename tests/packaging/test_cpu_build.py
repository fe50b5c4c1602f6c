"""The installer compiles llama.cpp for the CPU's vector units (never AMX) and caches the wheel by its flags."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.llm.cpu_build import build_features, cmake_args, cpu_flags, missing_from_build

ROOT = Path(__file__).resolve().parents[2]
AVX2_LAPTOP = "flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma f16c bmi2\n"
ZEN4 = AVX2_LAPTOP.rstrip("\n") + " avx512f avx512cd avx512vl avx512dq avx512bw avx512vbmi avx512_vnni avx512_bf16\n"
SAPPHIRE = ZEN4.rstrip("\n") + " amx_tile amx_int8 amx_bf16\n"


def test_flags_follow_the_cpu_and_never_ask_for_amx() -> None:
    assert cmake_args(cpu_flags(AVX2_LAPTOP), "x86_64") == "-DGGML_NATIVE=OFF"
    full = ("-DGGML_NATIVE=OFF -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON "
            "-DGGML_AVX512_BF16=ON")
    assert cmake_args(cpu_flags(ZEN4), "x86_64") == full
    assert cmake_args(cpu_flags(SAPPHIRE), "x86_64") == full  # AMX reported: still not asked for
    assert "AMX" not in cmake_args(cpu_flags(SAPPHIRE), "x86_64")
    partial = AVX2_LAPTOP.rstrip("\n") + " avx512f avx512_vnni\n"  # AVX512 needs all five: only VNNI's own
    assert cmake_args(cpu_flags(partial), "x86_64") == "-DGGML_NATIVE=OFF -DGGML_AVX512_VNNI=ON"
    assert cmake_args(cpu_flags(ZEN4), "aarch64") == "-DGGML_NATIVE=OFF"
    assert cpu_flags("processor : 0\n") == set()


def test_a_build_without_avx512_on_an_avx512_cpu_is_named() -> None:
    portable = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | OPENMP = 1 | "
    tuned = portable + "AVX512 = 1 | AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | "
    assert "AVX512" not in build_features(portable) and "AVX2" in build_features(portable)
    assert missing_from_build(portable, cpu_flags(ZEN4), "x86_64") == ["AVX512", "AVX512_VBMI", "AVX512_VNNI",
                                                                        "AVX512_BF16"]
    assert missing_from_build(tuned, cpu_flags(ZEN4), "x86_64") == []
    assert missing_from_build(portable, cpu_flags(AVX2_LAPTOP), "x86_64") == []


def test_the_installer_runs_it_with_a_bare_python() -> None:
    out = subprocess.run(["python3", "-I", str(ROOT / "app" / "llm" / "cpu_build.py")],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == cmake_args(cpu_flags())


def test_the_installed_build_is_the_one_the_installer_asked_for() -> None:
    venv = Path(sys.prefix)
    if not (venv / ".llama-build").is_file():
        pytest.skip("llama-cpp-python was not installed by packaging/venv.sh (no .llama-build marker)")
    if os.environ.get("CMAKE_ARGS"):
        pytest.skip("CMAKE_ARGS was set by hand: the build is what the user asked for")
    import llama_cpp

    from app.doctor import llama_build

    info = llama_cpp.llama_print_system_info().decode()
    assert missing_from_build(info, cpu_flags()) == []
    check = llama_build()
    assert check.ok and check.data["missing"] == []


FAKE_PIP = r'''#!/usr/bin/env bash
echo "$CMAKE_ARGS :: $*" >> "$PIP_LOG"
if [ "$1" = wheel ]; then
  case "$CMAKE_ARGS" in *AVX512*) [ -n "${FAIL_AVX512:-}" ] && exit 1 ;; esac
  while [ $# -gt 0 ]; do [ "$1" = -w ] && { mkdir -p "$2"; touch "$2/llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl"; }; shift; done
fi
exit 0
'''


def _run_installer(tmp_path: Path, **env: str) -> list[str]:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    pip = venv / "bin" / "pip"
    pip.write_text(FAKE_PIP)
    pip.chmod(0o755)
    log = tmp_path / "pip.log"
    log.unlink(missing_ok=True)
    full_env = {**{k: v for k, v in os.environ.items() if k != "CMAKE_ARGS"}, "BASTION_VENV": str(venv),
                "BASTION_WHEEL_CACHE": str(tmp_path / "wheels"), "PIP_LOG": str(log), **env}
    res = subprocess.run(["bash", "-c", f"source {ROOT}/packaging/venv.sh && bastion_llama"],
                         env=full_env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return log.read_text().splitlines() if log.exists() else []


def test_the_wheel_is_compiled_once_per_flags_and_reinstalled_when_they_change(tmp_path: Path) -> None:
    first = _run_installer(tmp_path, CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=ON")
    assert [line.split(" :: ")[1].split()[0] for line in first] == ["wheel", "install"]
    assert _run_installer(tmp_path, CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=ON") == []  # nothing to do
    (tmp_path / "venv" / ".llama-build").unlink()  # a fresh venv: the cached wheel, no compile
    again = _run_installer(tmp_path, CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=ON")
    assert [line.split(" :: ")[1].split()[0] for line in again] == ["install"]
    other = _run_installer(tmp_path, CMAKE_ARGS="-DGGML_NATIVE=OFF")  # other flags: compile, then install
    assert [line.split(" :: ")[1].split()[0] for line in other] == ["wheel", "install"]
    assert len(list((tmp_path / "wheels").iterdir())) == 2
    assert not list((tmp_path / "wheels").glob("*.part"))


def test_a_failed_tuned_build_falls_back_to_portable_flags(tmp_path: Path) -> None:
    log = _run_installer(tmp_path, CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=ON", FAIL_AVX512="1")
    assert [line.split(" :: ")[0] for line in log] == ["-DGGML_NATIVE=OFF -DGGML_AVX512=ON", "-DGGML_NATIVE=OFF",
                                                      "-DGGML_NATIVE=OFF"]
    assert [line.split(" :: ")[1].split()[0] for line in log] == ["wheel", "wheel", "install"]
