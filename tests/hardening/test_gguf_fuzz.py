"""Hostile GGUFs (the shapes of CVE-2025-53630 / CVE-2026-27940 and friends) never reach llama.cpp.

Every case from `gguf_cases.hostile_cases()` must be refused by the validator with one line naming the
file, through every path that hands a file to llama.cpp (the chat engine, the embedder), and a child
process that validates and would then load must exit cleanly having refused them all.
"""

from __future__ import annotations

import random
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.llm.gguf_check import ModelFileError, check_embedded_templates, check_gguf
from tests.hardening.gguf_cases import base_spec, encode, hostile_cases, mutate

CASES = hostile_cases()
REPO = Path(__file__).resolve().parents[2]


def _write_all(root: Path) -> list[tuple[str, Path]]:
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for i, (name, data) in enumerate(CASES):
        p = root / f"case{i:03d}.gguf"
        p.write_bytes(data)
        out.append((name, p))
    return out


def test_base_file_is_valid(tmp_path):
    """The generator's base file passes: every refusal below comes from the one field a case breaks."""
    p = tmp_path / "base.gguf"
    p.write_bytes(encode(base_spec()))
    info = check_gguf(p)
    check_embedded_templates(info)
    assert info.architecture == "llama" and len(info.tensors) == 2


def test_enough_cve_shapes():
    names = [n for n, _ in CASES]
    assert len(names) == len(set(names)) >= 100
    for shape in ("tensor count", "string length", "array length", "tensor offset", "dims product wraps",
                  "type confusion", "truncated", "alignment"):
        assert any(shape in n for n in names), shape


def test_every_hostile_shape_refused_in_one_line(tmp_path):
    for name, path in _write_all(tmp_path):
        with pytest.raises(ModelFileError) as exc:
            check_embedded_templates(check_gguf(path))
        what = str(exc.value).splitlines()[0]  # the refusal; a "Fix:" line follows
        assert str(path) in what and "Traceback" not in str(exc.value), (name, what)


def test_engine_and_embedder_refuse_before_llama_cpp(tmp_path, monkeypatch):
    """The real load paths, with llama.cpp replaced by a tripwire: no hostile file may get that far."""
    import llama_cpp

    from app.llm import lookup
    from app.llm.embedder import Embedder
    from app.llm.engine import EngineConfig, LlamaEngine

    reached: list[str] = []

    class Tripwire:
        def __init__(self, *a, model_path: str = "", **kw) -> None:
            reached.append(model_path)
            raise RuntimeError("reached llama.cpp")

    monkeypatch.setattr(lookup, "exact_llama_class", lambda: Tripwire)
    monkeypatch.setattr(llama_cpp, "Llama", Tripwire)
    for name, path in _write_all(tmp_path):
        with pytest.raises(ModelFileError):
            LlamaEngine(path, EngineConfig(n_ctx=256)).load()
        with pytest.raises(ModelFileError):
            Embedder(path, fingerprint="x").load()
        assert not reached, name
    base = tmp_path / "base.gguf"  # the tripwire is live: a valid file does reach it
    base.write_bytes(encode(base_spec()))
    with pytest.raises(Exception, match="reached llama.cpp"):
        LlamaEngine(base, EngineConfig(n_ctx=256)).load()
    assert reached == [str(base)]


def test_child_that_validates_then_loads_refuses_all_and_exits_cleanly(tmp_path):
    """A separate process with the real llama.cpp: a native crash here would be a signal, not a refusal."""
    files = _write_all(tmp_path / "cases")
    child = textwrap.dedent("""
        import sys
        from pathlib import Path
        from app.errors import BastionError
        from app.llm.engine import EngineConfig, LlamaEngine
        for p in sys.argv[1:]:
            try:
                LlamaEngine(Path(p), EngineConfig(n_ctx=256)).load()
                print("LOADED", p)
            except BastionError as exc:
                print("refused", str(exc).splitlines()[0][:200])
    """)
    proc = subprocess.run([sys.executable, "-c", child, *[str(p) for _, p in files]], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert len(lines) == len(files) and all(ln.startswith("refused ") for ln in lines), proc.stdout[-2000:]
    assert "Traceback" not in proc.stderr


def test_mutations_refused_or_accepted_never_crash(tmp_path):
    """Seeded mutations of the base file's header: each one is refused with ModelFileError or parses;
    no other exception (IndexError, struct.error, MemoryError, OverflowError) escapes."""
    data = encode(base_spec())
    header_end = data.index(b"\0" * 32, data.index(b"output_norm.weight"))
    rng = random.Random(29)
    p = tmp_path / "m.gguf"
    refused = 0
    for i in range(300):
        what, blob = mutate(data, rng, header_end=header_end)
        p.write_bytes(blob)
        try:
            check_gguf(p)
        except ModelFileError as exc:
            refused += 1
            assert str(p) in str(exc).splitlines()[0], what
    assert refused > 150  # most header mutations break a field; the rest change a value or a name


def test_real_model_passes_the_full_check(smollm2_gguf):
    """No false refusal on the real starter model, templates included."""
    check_embedded_templates(check_gguf(smollm2_gguf))


def test_fuzzer_find_vocab_nul_collision_refused(smollm2_gguf, tmp_path):
    """Regression for what bench/bench_fuzz_gguf.py found (seed 29): four NUL bytes written into the token
    'Ġhypothermia' make llama.cpp read it as the existing 'Ġhypoth' and abort() on the duplicate."""
    info = check_gguf(smollm2_gguf)
    with open(smollm2_gguf, "rb") as fh:
        header = bytearray(fh.read(info.data_offset))
    word = "Ġhypothermia".encode()
    at = header.index(struct.pack("<Q", len(word)) + word) + 8 + len("Ġhypoth".encode())
    header[at:at + 4] = b"\0" * 4
    p = tmp_path / "nul-token.gguf"
    with open(p, "wb") as fh:
        fh.write(header)
        fh.truncate(smollm2_gguf.stat().st_size)  # the tensor data, sparse: the header checks never read it
    with pytest.raises(ModelFileError, match="two equal tokens"):
        check_gguf(p)
