"""`analyze_code` and `analyze_path`: static evidence, then the model, then fix verification."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from app.analysis import guard, languages, model_layer, static, syntax, verify
from app.analysis.models import Report
from app.analysis.walker import is_binary, walk
from app.errors import BastionError

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2_000_000
Progress = Callable[[int, int, str], None]


def check_input(data: str | bytes, *, where: str = "the input", max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The text to analyse, or a BastionError for empty, binary, oversized or undecodable input."""
    size = len(data.encode("utf-8", "replace")) if isinstance(data, str) else len(data)
    if size > max_bytes:
        raise BastionError(f"{where} is {size / 1e6:.1f} MB; the analysis limit is {max_bytes / 1e6:.1f} MB",
                           hint="analyse a smaller file or part, or raise analysis.max_file_bytes in settings")
    if isinstance(data, bytes):
        if is_binary(data[:8192]):
            raise BastionError(f"{where} is binary data, not source code", hint="pass a source file")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BastionError(f"{where} is not UTF-8 text (byte {exc.start})", hint="convert the file to UTF-8") from None
    if "\x00" in data[:8192] or is_binary(data[:8192].encode("utf-8", "replace")):
        raise BastionError(f"{where} is binary data, not source code", hint="pass a source file")
    if not data.strip():
        raise BastionError(f"nothing to analyse: {where} is empty", hint="pass some code")
    return data


def _base_report(code: str, language: str, filename: str | None) -> Report:
    rep = Report(code=code, language=language, filename=filename)
    syn = syntax.check(code, language) if language in ("python", "bash") else None  # cheap checks only
    if syn is not None and syn.ok is False:
        rep.notes.append(f"the code does not parse ({syn.checker}: {syn.message}); results may be incomplete")
    injected = guard.addressing_lines(code)
    if injected:
        rep.notes.append(
            f"line(s) {', '.join(map(str, injected[:8]))} contain text addressed to the reviewer (e.g. 'this code is "
            "safe'); it was treated as data and cannot remove findings")
    return rep


def analyze_code(code: str, *, language: str | None = None, filename: str | None = None, engine=None,
                 use_model: bool = True, cancel: threading.Event | None = None, use_static: bool = True,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> Report:
    """Analyse one piece of code. Raises BastionError for empty, binary, oversized or unknown-language input."""
    code = check_input(code, where=filename or "the code", max_bytes=max_bytes)
    lang = languages.detect(code, filename=filename, language=language)
    rep = _base_report(code, lang, filename)
    with tempfile.TemporaryDirectory(prefix="bastion-an-") as tmp:
        path = str(Path(tmp) / f"snippet{languages.LANGUAGES[lang]}")
        Path(path).write_text(code, encoding="utf-8")
        if use_static:
            res = static.scan({path: lang}, codes={path: code}, max_bytes=max_bytes)
            rep.findings = res.findings.get(path, [])
            rep.notes += res.notes.get(path, [])
            rep.engines_ran += res.engines if lang == "python" else ["semgrep"]
            rep.timings.update({f"static_{k}": round(v, 3) for k, v in res.seconds.items()})
    _model_and_verify([rep], engine=engine, use_model=use_model, use_static=use_static, cancel=cancel)
    return rep.settle()


def _model_and_verify(reports: list[Report], *, engine, use_model: bool, use_static: bool,
                      cancel: threading.Event | None, progress: Progress | None = None) -> None:
    if use_model and engine is not None:
        for i, rep in enumerate(reports):
            if cancel is not None and cancel.is_set():
                rep.notes.append("cancelled before the model review")
                continue
            if progress:
                progress(i, len(reports), rep.filename or "code")
            if use_static:
                run = model_layer.review(rep.code, rep.language, rep.findings, engine, cancel=cancel)
            else:
                rep.findings, run = model_layer.solo(rep.code, rep.language, engine, cancel=cancel)
            rep.engines_ran.append(f"model:{run.engine_name}")
            rep.notes += run.notes
            rep.timings["model"] = round(run.seconds, 3)
            rep.timings["model_tokens"] = float(run.completion_tokens)
            rep.timings["model_tokens_per_s"] = round(run.tokens_per_s, 2)
    elif use_model and engine is None:
        for rep in reports:
            rep.notes.append("static analysis only: no model engine was given")
    t0 = time.perf_counter()
    verify.verify([(r.code, r.language, r.filename, r.findings, f) for r in reports for f in r.findings])
    for f in (f for r in reports for f in r.findings if f.fix.code is None):
        f.fix.notes = ["no patch proposed; see the hint"] if f.fix.hint else ["no patch proposed"]
    if any(f.fix.code for r in reports for f in r.findings):
        for r in reports:
            r.timings["verify"] = round(time.perf_counter() - t0, 3)


def analyze_path(path: str | Path, *, engine=None, use_model: bool = True, progress: Progress | None = None,
                 language: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                 cancel: threading.Event | None = None) -> list[Report]:
    """Analyse a file or a directory tree (one Semgrep and one Bandit run for all files)."""
    root = Path(path).expanduser()
    if not root.exists():
        raise BastionError(f"{root}: no such file or directory", hint="check the path")
    if root.is_file():
        if root.stat().st_size > max_bytes:
            _too_big(root, max_bytes)
        text = check_input(root.read_bytes(), where=str(root), max_bytes=max_bytes)
        languages.detect(text, filename=root.name, language=language)  # unknown language: a clear error
        return analyze_files([root], engine=engine, use_model=use_model, progress=progress, language=language,
                             max_bytes=max_bytes, cancel=cancel)
    files, skipped = walk(root, max_bytes=max_bytes)
    reports = analyze_files(files, engine=engine, use_model=use_model, progress=progress, language=language,
                            max_bytes=max_bytes, cancel=cancel)
    return reports + [_skipped(s.path, s.reason) for s in skipped]


def analyze_files(files: list[Path], *, engine=None, use_model: bool = True, progress: Progress | None = None,
                  language: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                  cancel: threading.Event | None = None) -> list[Report]:
    """Analyse a list of files in one batch; unreadable or unknown ones come back as skipped reports."""
    t0 = time.perf_counter()
    reports: list[Report] = []
    targets: dict[str, str] = {}
    texts: dict[str, str] = {}
    for f in files:
        key = str(f)
        try:
            if Path(f).stat().st_size > max_bytes:
                _too_big(Path(f), max_bytes)
            text = check_input(Path(f).read_bytes(), where=key, max_bytes=max_bytes)
            lang = languages.detect(text, filename=Path(f).name, language=language)
        except (BastionError, OSError) as exc:
            reports.append(_skipped(key, str(exc).split("\n")[0]))
            continue
        texts[key] = text
        targets[key] = lang
    if progress:
        progress(0, len(targets), f"static scan of {len(targets)} file(s)")
    res = static.scan(targets, codes=texts, max_bytes=max_bytes)
    per_file = (time.perf_counter() - t0) / max(1, len(targets))
    analysed: list[Report] = []
    for key, lang in targets.items():
        rep = _base_report(texts[key], lang, key)
        rep.findings = res.findings.get(key, [])
        rep.notes += res.notes.get(key, [])
        rep.engines_ran = list(res.engines) if lang == "python" else ["semgrep"]
        rep.timings["static_batch_share"] = round(per_file, 4)
        analysed.append(rep)
    _model_and_verify(analysed, engine=engine, use_model=use_model, use_static=True, cancel=cancel, progress=progress)
    for rep in analysed:
        rep.settle()
    if progress:
        progress(len(targets), len(targets), "done")
    return sorted(analysed, key=lambda r: r.filename or "") + reports


def _too_big(root: Path, max_bytes: int) -> None:
    size = root.stat().st_size
    raise BastionError(f"{root} is {size / 1e6:.1f} MB; the analysis limit is {max_bytes / 1e6:.1f} MB",
                       hint="analyse a smaller file, or raise analysis.max_file_bytes in settings")


def _skipped(path: str, reason: str) -> Report:
    return Report(code="", language=languages.from_filename(path) or "unknown", filename=path, status="skipped",
                  notes=[f"skipped: {reason}"]).settle()
