"""`analyze_code` and `analyze_path`: static evidence, then the model, then fix verification.

Every per-file failure (unreadable, not UTF-8, a parser's RecursionError on deeply nested code, an
engine that gave up on the file) becomes that file's `status="error"` report (or an entry in its
`errors`) and the run goes on; unsupported languages come back as `status="unsupported"`, never
as safe. Inline suppression comments are reported, not obeyed, unless `honour_suppressions=True`.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from app.analysis import guard, languages, model_layer, static, syntax, verify
from app.analysis.models import Fix, Report
from app.analysis.unsupported import unsupported
from app.analysis.walker import Skipped, is_binary, walk
from app.errors import BastionError

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2_000_000
Progress = Callable[[int, int, str, int], None]
"""progress(files done, files total, current file or phase, findings so far)."""


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
            data = data.decode("utf-8-sig")  # a UTF-8 BOM is not code: with it Python's own parser refused the file
        except UnicodeDecodeError as exc:
            raise BastionError(f"{where} is not UTF-8 text (byte {exc.start})", hint="convert the file to UTF-8") from None
    if "\x00" in data[:8192] or is_binary(data[:8192].encode("utf-8", "replace")):
        raise BastionError(f"{where} is binary data, not source code", hint="pass a source file")
    if not data.strip():
        raise BastionError(f"nothing to analyse: {where} is empty", hint="pass some code")
    return data


def _base_report(code: str, language: str, filename: str | None) -> Report:
    rep = Report(code=code, language=language, filename=filename)
    syn = syntax.check(code, language) if syntax.cheap(language) else None
    if syn is not None and syn.ok is False:
        rep.notes.append(f"the code does not parse ({syn.checker}: {syn.message}); results may be incomplete")
        rep.parse_error = f"{syn.checker}: {syn.message}"
    injected = guard.addressing_lines(code)
    if injected:
        rep.notes.append(
            f"line(s) {', '.join(map(str, injected[:8]))} contain text addressed to the reviewer (e.g. 'this code is "
            "safe'); it was treated as data and cannot remove findings")
    return rep


def analyze_code(code: str, *, language: str | None = None, filename: str | None = None, engine=None,
                 use_model: bool = True, cancel: threading.Event | None = None, use_static: bool = True,
                 max_bytes: int = DEFAULT_MAX_BYTES, honour_suppressions: bool = False) -> Report:
    """Analyse one piece of code. Raises BastionError for empty, binary, oversized or unknown-language input."""
    code = check_input(code, where=filename or "the code", max_bytes=max_bytes)
    other = None if language else unsupported(code, filename=filename)
    if other:
        return _unsupported(filename, other, code=code)
    lang = languages.detect(code, filename=filename, language=language)
    rep = _base_report(code, lang, filename)
    with tempfile.TemporaryDirectory(prefix="bastion-an-") as tmp:
        path = str(Path(tmp) / f"snippet{languages.LANGUAGES[lang].suffix}")
        Path(path).write_text(code, encoding="utf-8")
        if use_static:
            res = static.scan({path: lang}, codes={path: code}, max_bytes=max_bytes)
            rep.findings = res.findings.get(path, [])
            rep.notes += res.notes.get(path, [])
            rep.errors += res.errors.get(path, [])
            rep.engines_ran += res.ran_on(lang)
            rep.timings.update({f"static_{k}": round(v, 3) for k, v in res.seconds.items()})
            _suppressions(rep, honour_suppressions)
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
                progress(i, len(reports), rep.filename or "code", sum(len(r.findings) for r in reports))
            try:
                if use_static:
                    run = model_layer.review(rep.code, rep.language, rep.findings, engine, cancel=cancel)
                else:
                    rep.findings, run = model_layer.solo(rep.code, rep.language, engine, cancel=cancel)
            except Exception as exc:  # noqa: BLE001 - the model is an extra; its failure must not end the run
                log.warning("model review of %s failed: %r", rep.filename, exc)
                rep.notes.append(f"model review failed ({type(exc).__name__}); static findings shown as they are")
                continue
            rep.engines_ran.append(f"model:{run.engine_name}")
            rep.notes += run.notes
            rep.model_checks.add(run.checks)
            rep.timings["model"] = round(run.seconds, 3)
            rep.timings["model_tokens"] = float(run.completion_tokens)
            rep.timings["model_tokens_per_s"] = round(run.tokens_per_s, 2)
    elif use_model and engine is None:
        for rep in reports:
            rep.notes.append("static analysis only: no model engine was given")
    t0 = time.perf_counter()
    try:
        verify.verify([(r.code, r.language, r.filename, r.findings, f) for r in reports for f in r.findings])
    except Exception as exc:  # noqa: BLE001 - an unverifiable patch stays "proposed"
        log.warning("fix verification failed: %r", exc)
        for f in (f for r in reports for f in r.findings if f.fix.code is not None):
            f.fix.verified = False
            f.fix.notes = [f"verification failed ({type(exc).__name__}); not verified"]
    for f in (f for r in reports for f in r.findings if f.fix.code is None):
        f.fix.notes = ["no patch proposed; see the hint"] if f.fix.hint else ["no patch proposed"]
    if any(f.fix.code for r in reports for f in r.findings):
        for r in reports:
            r.timings["verify"] = round(time.perf_counter() - t0, 3)


def analyze_path(path: str | Path, *, engine=None, use_model: bool = True, progress: Progress | None = None,
                 language: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                 cancel: threading.Event | None = None, include: list[str] | None = None,
                 exclude: list[str] | None = None, honour_suppressions: bool = False) -> list[Report]:
    """Analyse a file or a directory tree (one Semgrep and one Bandit run for all files).

    Returns one report per analysed file, then one per file or folder that was skipped,
    unsupported or failed (status says which; `notes`/`errors` say why).
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise BastionError(f"{root}: no such file or directory", hint="check the path")
    if root.is_file():
        if root.stat().st_size > max_bytes:
            _too_big(root, max_bytes)
        try:
            head = root.read_bytes()[:8192]
        except OSError as exc:
            raise BastionError(f"{root}: cannot read ({exc.strerror})", hint="check the file's permissions") from None
        if is_binary(head):
            raise BastionError(f"{root} is binary data, not source code", hint="pass a source file")
        return analyze_files([root], engine=engine, use_model=use_model, progress=progress, language=language,
                             max_bytes=max_bytes, cancel=cancel, honour_suppressions=honour_suppressions)
    files, skipped = walk(root, max_bytes=max_bytes, include=include, exclude=exclude)
    reports = analyze_files(files, engine=engine, use_model=use_model, progress=progress, language=language,
                            max_bytes=max_bytes, cancel=cancel, honour_suppressions=honour_suppressions)
    return reports + [_from_skipped(s) for s in skipped]


def _prepare(f: Path, language: str | None, max_bytes: int) -> tuple[str, str] | Report:
    """(text, language) for a file, or the report that says why it is not analysed."""
    key = str(f)
    try:
        data = Path(f).read_bytes()
    except OSError as exc:
        return _error(key, f"cannot read: {exc.strerror or exc}")
    if len(data) > max_bytes:
        return _skipped(key, f"larger than the analysis limit ({len(data) / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB)")
    if is_binary(data[:8192]):
        return _skipped(key, "binary file")
    try:
        text = data.decode("utf-8-sig")  # as check_input: the BOM made `ast.parse` fail (red-team round)
    except UnicodeDecodeError as exc:
        return _error(key, f"not UTF-8 text (byte {exc.start}); convert it to UTF-8 to analyse it")
    if not text.strip():
        return _skipped(key, "empty file")
    other = None if language else unsupported(text, filename=Path(f).name)
    if other:
        return _unsupported(key, other)
    try:
        lang = languages.detect(text, filename=Path(f).name, language=language)
    except BastionError:
        return _unsupported(key, "unknown language")
    return text, lang


def analyze_files(files: list[Path], *, engine=None, use_model: bool = True, progress: Progress | None = None,
                  language: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                  cancel: threading.Event | None = None, honour_suppressions: bool = False) -> list[Report]:
    """Analyse a list of files in one batch; each problem file gets its own skipped/unsupported/error report."""
    t0 = time.perf_counter()
    reports: list[Report] = []
    targets: dict[str, str] = {}
    texts: dict[str, str] = {}
    for f in files:
        got = _prepare(Path(f), language, max_bytes)
        if isinstance(got, Report):
            reports.append(got)
            continue
        texts[str(f)], targets[str(f)] = got
    if progress:
        progress(0, len(targets), f"static scan of {len(targets)} file(s)", 0)
    res = _scan(targets, texts, max_bytes)
    per_file = (time.perf_counter() - t0) / max(1, len(targets))
    analysed: list[Report] = []
    for key, lang in targets.items():
        if key in res.errors and not res.findings.get(key) and res.errors[key][0].startswith("static analysis failed"):
            reports.append(_error(key, "; ".join(res.errors[key]), language=lang))
            continue
        try:
            rep = _base_report(texts[key], lang, key)
        except Exception as exc:  # noqa: BLE001 - one file's failure must not end the run
            reports.append(_error(key, f"{type(exc).__name__}: {str(exc)[:200]}", language=lang))
            continue
        rep.findings = res.findings.get(key, [])
        rep.notes += res.notes.get(key, [])
        rep.errors += res.errors.get(key, [])
        rep.engines_ran = res.ran_on(lang)
        rep.timings["static_batch_share"] = round(per_file, 4)
        _suppressions(rep, honour_suppressions)
        analysed.append(rep)
    _model_and_verify(analysed, engine=engine, use_model=use_model, use_static=True, cancel=cancel, progress=progress)
    for rep in analysed:
        rep.settle()
    if progress:
        progress(len(targets), len(targets), "done", sum(len(r.findings) for r in analysed))
    return sorted(analysed, key=lambda r: r.filename or "") + reports


def _scan(targets: dict[str, str], texts: dict[str, str], max_bytes: int) -> static.StaticResult:
    """One batch scan; if the batch breaks on something unexpected, file by file so one file cannot sink the run."""
    try:
        return static.scan(targets, codes=texts, max_bytes=max_bytes)
    except BastionError:
        raise  # the engines themselves are missing or broken: a run-level error
    except Exception as exc:  # noqa: BLE001
        log.warning("batch scan failed (%r); scanning file by file", exc)
    res = static.StaticResult()
    for key, lang in targets.items():
        try:
            one = static.scan({key: lang}, codes={key: texts[key]}, max_bytes=max_bytes)
        except BastionError:
            raise
        except Exception as exc:  # noqa: BLE001
            res.errors[key] = [f"static analysis failed: {type(exc).__name__}: {str(exc)[:200]}"]
            continue
        for name in ("findings", "notes", "errors", "hits"):
            getattr(res, name).update(getattr(one, name))
        res.engines = one.engines
        res.engine_languages.update(one.engine_languages)
    return res


def _suppressions(rep: Report, honour: bool) -> None:
    marked = [f for f in rep.findings if f.suppression]
    if not marked:
        return
    if honour:
        rep.findings = [f for f in rep.findings if not f.suppression]
        rep.notes.append(f"{len(marked)} finding(s) hidden by inline suppression comments (--honour-suppressions)")
    else:
        rep.notes.append(f"suppression comment present next to {len(marked)} finding(s); not honoured: the code under "
                         "review cannot silence its reviewer (--honour-suppressions for your own code)")


def hide_unverified(reports: list[Report]) -> int:
    """Drop unverified model patches (keep the hint); returns how many were hidden."""
    n = 0
    for r in reports:
        for f in r.findings:
            if f.fix.author == "model" and f.fix.code is not None and not f.fix.verified:
                f.fix = Fix(hint=f.fix.hint, notes=["a model patch was proposed but not verified: hidden "
                                                    "(--show-unverified shows it)"])
                n += 1
    return n


def _too_big(root: Path, max_bytes: int) -> None:
    size = root.stat().st_size
    raise BastionError(f"{root} is {size / 1e6:.1f} MB; the analysis limit is {max_bytes / 1e6:.1f} MB",
                       hint="analyse a smaller file, or raise analysis.max_file_bytes in settings")


def _skipped(path: str, reason: str) -> Report:
    return Report(code="", language=languages.from_filename(path) or "unknown", filename=path, status="skipped",
                  notes=[reason]).settle()  # shown as "SKIPPED — <reason>", never "skipped: " twice


def _error(path: str, reason: str, *, language: str | None = None) -> Report:
    return Report(code="", language=language or languages.from_filename(path) or "unknown", filename=path,
                  status="error", errors=[reason], notes=[f"error: {reason}"]).settle()


def _unsupported(path: str | None, lang_name: str, *, code: str = "") -> Report:
    why = (f"{lang_name}: Bastion has no analyzer for this language, so nothing ran on it; "
           "this is NOT a safe verdict" if lang_name != "unknown language" else
           "the language could not be determined, so nothing ran on it; this is NOT a safe verdict (pass --lang)")
    return Report(code=code, language=lang_name.lower() if lang_name != "unknown language" else "unknown",
                  filename=path, status="unsupported", notes=[why]).settle()


def _from_skipped(s: Skipped) -> Report:
    if s.kind == "error":
        return _error(s.path, s.reason)
    if s.kind == "unsupported":
        return _unsupported(s.path, s.reason.split(":", 1)[0])
    return _skipped(s.path, s.reason)
