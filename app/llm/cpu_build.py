"""Which CPU features the llama.cpp build should use, and which this build lacks.

The default native build (-DGGML_NATIVE=ON) enables AMX where the CPU reports it, and
that faults in some VMs; a plain portable build stops at AVX2 and leaves AVX-512 unused,
which costs about a quarter of the prompt-evaluation speed where the CPU has it
(bench/bench_build.py). So the installer asks for what /proc/cpuinfo reports, group by
group, never AMX. Standard library only: `packaging/venv.sh` runs this file with the
system Python before any virtual environment exists, and prints its CMAKE_ARGS.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from pathlib import Path

PORTABLE = "-DGGML_NATIVE=OFF"


@dataclass(frozen=True)
class FeatureGroup:
    option: str
    """The ggml CMake option that turns it on."""
    needs: tuple[str, ...]
    """/proc/cpuinfo flags the CPU must report, all of them."""
    shown_as: str
    """Its name in `llama_print_system_info()`."""


GROUPS = (
    # ggml's AVX512 option compiles with -mavx512f/cd/vl/dq/bw together.
    FeatureGroup("GGML_AVX512", ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"), "AVX512"),
    FeatureGroup("GGML_AVX512_VBMI", ("avx512f", "avx512vbmi"), "AVX512_VBMI"),
    FeatureGroup("GGML_AVX512_VNNI", ("avx512f", "avx512_vnni"), "AVX512_VNNI"),
    FeatureGroup("GGML_AVX512_BF16", ("avx512f", "avx512_bf16"), "AVX512_BF16"),
)


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The first processor's flags; empty when there is no /proc/cpuinfo (not Linux)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return set()
    for line in cpuinfo.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


def wanted_groups(flags: set[str], machine: str | None = None) -> list[FeatureGroup]:
    if (machine or platform.machine()).lower() not in ("x86_64", "amd64"):
        return []
    return [g for g in GROUPS if all(f in flags for f in g.needs)]


def cmake_args(flags: set[str], machine: str | None = None) -> str:
    """Portable flags plus every AVX-512 group this CPU has (never AMX)."""
    return " ".join([PORTABLE] + [f"-D{g.option}=ON" for g in wanted_groups(flags, machine)])


def build_features(system_info: str) -> set[str]:
    """Feature names a llama.cpp build reports as on ("AVX512 = 1 | ...")."""
    on = set()
    for part in system_info.replace("\n", "|").split("|"):
        name, _, value = part.rpartition("=")
        name = name.split(":")[-1].strip()
        if name and value.strip() == "1":
            on.add(name)
    return on


def missing_from_build(system_info: str, flags: set[str], machine: str | None = None) -> list[str]:
    """Groups the CPU has that the installed llama.cpp was compiled without."""
    built = build_features(system_info)
    return [g.shown_as for g in wanted_groups(flags, machine) if g.shown_as not in built]


if __name__ == "__main__":
    print(cmake_args(cpu_flags()))
    sys.exit(0)
