"""`bastion doctor`: what is installed, whether the bundle is sound, whether the engine runs."""

from __future__ import annotations

import json
import platform
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from app.settings import Settings

CRASH_HINT = (
    "llama.cpp crashed in native code ({sig}). A common cause is a build tuned for CPU features "
    "this machine or VM mishandles (e.g. AMX). Reinstall llama-cpp-python with portable flags: "
    "CMAKE_ARGS='-DGGML_NATIVE=OFF' pip install --force-reinstall --no-cache-dir llama-cpp-python"
)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    data: dict = field(default_factory=dict)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in ("bastion", "llama_cpp_python", "textual", "chromadb", "pydantic", "bandit", "semgrep"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def cpu_features() -> list[str]:
    wanted = ("avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16", "neon")
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return [platform.machine()]
    flags = set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            flags.update(line.split(":", 1)[1].split())
            break
    return [f for f in wanted if f in flags]


def llama_build() -> Check:
    """Whether the installed llama.cpp uses the vector units this CPU has (AVX-512 is ~1.4x prefill)."""
    from app.llm.cpu_build import cpu_flags, missing_from_build

    try:
        import llama_cpp

        info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    except Exception as exc:  # a broken install is reported by the engine check
        return Check("llama.cpp build", False, f"cannot read the build's features: {exc}")
    missing = missing_from_build(info, cpu_flags())
    if not missing:
        return Check("llama.cpp build", True, "uses every vector group this CPU has", {"missing": []})
    return Check("llama.cpp build", True,
                 f"compiled without {', '.join(missing)}, which this CPU has: prompts evaluate slower than they "
                 f"could; rerun packaging/setup.sh (it compiles for this CPU, never AMX)", {"missing": missing})


def probe_engine(model_path: Path, *, timeout: float = 120.0) -> Check:
    """Run the smoke test in a child with networking blocked; explain a native crash."""
    cmd = [sys.executable, "-m", "app.llm.probe", str(model_path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Check("engine", False, f"smoke test did not finish in {timeout:.0f}s")
    if proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name
        return Check("engine", False, CRASH_HINT.format(sig=sig), {"signal": sig})
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return Check("engine", False, f"smoke test failed: {last}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return Check(
        "engine",
        True,
        f"generated {data['tokens']} tokens at {data['tokens_per_s']:.1f} tok/s with networking blocked",
        data,
    )


def analysis_engines() -> Check:
    """The optional static engines (cppcheck, clang, flawfinder, shellcheck): found or why not.

    Always ok: a missing optional engine is skipped with a note, Semgrep and Bandit still run."""
    from app.analysis.engines import all_status

    found = all_status(refresh=True)
    parts = [f"{e.name} {e.version or e.path}" if e.ok else f"{e.name}: {e.reason}" for e in found]
    return Check("analysis engines", True, "; ".join(parts),
                 {e.name: {"path": e.path, "version": e.version, "languages": list(e.languages), "reason": e.reason}
                  for e in found})


def run_doctor(settings: Settings, *, probe: bool = True) -> list[Check]:
    from app.bundle import load_bundle, verify_bundle
    from app.errors import BastionError

    checks = [
        Check("versions", True, ", ".join(f"{k} {v}" for k, v in versions().items()), versions()),
        Check("cpu", True, " ".join(cpu_features()) or "unknown", {"features": cpu_features()}),
        llama_build(),
        analysis_engines(),
    ]
    root = settings.bundle_path()
    try:
        problems = verify_bundle(root, full=True)
    except BastionError as exc:
        checks.append(Check("bundle", False, str(exc)))
        return checks
    if problems:
        checks.append(Check("bundle", False, f"{root}: " + "; ".join(problems)))
        return checks
    from app.bundle.signing import TrustPolicy

    policy = TrustPolicy.from_settings(settings)
    bundle = load_bundle(root, verify=False, trust=policy)
    checks.append(Check("bundle", True, f"{root} verified ({len(bundle.manifest.components)} files)"))
    sig = bundle.signature
    usable = sig.ok or (sig.state != "invalid" and policy.allow_unsigned)
    extra = "" if sig.ok else (" (loaded because trust.allow_unsigned is on)" if usable else
                               " — refused: trust its signer's key or set trust.allow_unsigned")
    checks.append(Check("signer", usable, sig.describe() + extra,
                        {"state": sig.state, "key_id": sig.key_id, "signer": sig.signer}))
    for problem in policy.problems:
        checks.append(Check("trusted keys", False, problem))
    checks.append(hardware_fit(bundle))
    if probe:
        checks.append(probe_engine(bundle.llm_path))
    return checks


def hardware_fit(bundle) -> Check:
    """Suggested n_ctx / threads / GPU layers for the bundle's model on this machine (app.llm.fit)."""
    from app.errors import BastionError
    from app.llm.fit import ModelShape, suggest

    shape = ModelShape.from_metrics(bundle.manifest.metrics)
    if shape is None:
        from app.llm.gguf_check import check_gguf

        try:
            shape = ModelShape.from_gguf(check_gguf(bundle.llm_path))
        except BastionError as exc:
            return Check("fit", False, str(exc).splitlines()[0])
    fit = suggest(shape)
    return Check("fit", fit.fits, f"suggested {fit.line()} for {shape.model_bytes / 1e9:.2f} GB of weights, "
                 f"{fit.memory_bytes / 2**30:.1f} GiB available", {"n_ctx": fit.n_ctx, "n_threads": fit.n_threads,
                                                                    "n_gpu_layers": fit.n_gpu_layers})
