"""llama.cpp's GGUF converter, of the same version as the installed llama-cpp-python.

The converter and gguf-py come from that version's source distribution, which
is fetched once from the package index (a download the user asked for, by
running `builder setup` or the first export) and cached; after that everything
works offline. `--llama-cpp-dir` points at a llama.cpp checkout instead.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

from app import paths
from app.errors import BastionError

log = logging.getLogger(__name__)

# The converter scripts, their `conversion` package (newer llama.cpp) and gguf-py.
_WANTED_DIRS = ("conversion/", "gguf-py/")
_MARK = ".bastion-complete"


def llama_cpp_python_version() -> str:
    try:
        return metadata.version("llama_cpp_python")
    except metadata.PackageNotFoundError:
        raise BastionError("llama-cpp-python is not installed", hint="pip install llama-cpp-python") from None


def _cached(version: str) -> Path:
    return paths.cache_dir() / f"llama.cpp-{version}"


def _valid(d: Path) -> bool:
    return (d / "convert_hf_to_gguf.py").is_file() and (d / "gguf-py" / "gguf").is_dir()


def _complete(d: Path) -> bool:
    return _valid(d) and (d / _MARK).exists()


def converter_dir(llama_cpp_dir: Path | None = None, *, allow_download: bool = True) -> Path:
    """A directory holding convert_hf_to_gguf.py and gguf-py matching the installed llama.cpp."""
    if llama_cpp_dir:
        d = Path(llama_cpp_dir).expanduser()
        if not _valid(d):
            raise BastionError(f"{d} has no convert_hf_to_gguf.py and gguf-py/", hint="point --llama-cpp-dir at a llama.cpp checkout")
        return d
    version = llama_cpp_python_version()
    d = _cached(version)
    if _complete(d):
        return d
    if not allow_download:
        raise BastionError(
            f"the llama.cpp converter for llama-cpp-python {version} is not cached at {d}",
            hint="run `builder setup` once while connected, or pass --llama-cpp-dir",
        )
    _fetch(version, d)
    return d


def _fetch(version: str, dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "-d", tmp, f"llama-cpp-python=={version}"]
        log.info("fetching llama-cpp-python %s source for its converter", version)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        sdists = list(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        if not sdists:
            raise BastionError(
                f"could not download the llama-cpp-python {version} source distribution: "
                f"{(proc.stderr.strip().splitlines() or ['no output'])[-1]}",
                hint="connect once and run `builder setup`, or pass --llama-cpp-dir DIR",
            )
        _extract_converter(sdists[0], dest)


def _extract_converter(sdist: Path, dest: Path) -> None:
    staging = dest.with_name(dest.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(sdist) as tf:
        for m in tf.getmembers():
            parts = m.name.split("/vendor/llama.cpp/", 1)
            if len(parts) != 2 or not (m.isfile() or m.isdir()):
                continue
            rel = parts[1]
            top_py = "/" not in rel and rel.endswith(".py")
            if not (top_py or rel.startswith(_WANTED_DIRS)) or ".." in rel.split("/"):
                continue
            target = staging / parts[1]
            if m.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(m)
            assert src is not None
            target.write_bytes(src.read())
    if not _valid(staging):
        raise BastionError(f"{sdist.name} holds no converter", hint="pass --llama-cpp-dir")
    (staging / _MARK).write_text(sdist.name)
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(staging, dest)


def convert_hf_to_gguf(model_dir: Path, outfile: Path, *, outtype: str = "f16", llama_cpp_dir: Path | None = None) -> Path:
    """Run llama.cpp's converter on a Hugging Face model folder; atomic output."""
    conv = converter_dir(llama_cpp_dir)
    outfile.parent.mkdir(parents=True, exist_ok=True)
    tmp = outfile.with_name(outfile.name + ".partial")
    env = dict(os.environ, PYTHONPATH=str(conv / "gguf-py") + os.pathsep + os.environ.get("PYTHONPATH", ""),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    cmd = [sys.executable, str(conv / "convert_hf_to_gguf.py"), str(model_dir), "--outfile", str(tmp), "--outtype", outtype]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0 or not tmp.exists():
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        tmp.unlink(missing_ok=True)
        raise BastionError(f"GGUF conversion of {model_dir} failed:\n{tail}", hint="check the model folder is a complete Hugging Face checkpoint")
    os.replace(tmp, outfile)
    return outfile


def quantize(src: Path, dst: Path, qtype: str) -> Path:
    """Quantize a GGUF with llama.cpp's own quantizer (through llama-cpp-python)."""
    import llama_cpp

    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{qtype.upper()}", None)
    if ftype is None:
        raise BastionError(f"unknown quantization type {qtype!r}", hint="use Q4_K_M, Q5_K_M, Q8_0 …")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    tmp = dst.with_name(dst.name + ".partial")
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), params)
    if rc != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        raise BastionError(f"quantizing {src} to {qtype} failed (code {rc})")
    os.replace(tmp, dst)
    return dst
