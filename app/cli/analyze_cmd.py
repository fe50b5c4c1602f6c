"""`bastion analyze FILE|DIR|-`: secure-code analysis with a CI-friendly exit code.

Exit codes: 0 = nothing at or above --fail-on; 3 = a finding at or above --fail-on (and no file
failed); 4 = the scan is incomplete: a file could not be analysed (unreadable, not UTF-8, a parser
gave up ...) or nothing at all was analysed, whatever the findings; 1 = an error the user can fix
(printed as `Error: ...`); 2 = bad command-line usage.

Untrusted-code defaults: inline suppressions (`# nosec`, `nosemgrep` ...) are reported, not
honoured (`--honour-suppressions` for your own code); tracked files are scanned whatever
.gitignore says. The model layer runs only when the bundle's measured eval shows that it helps
(`app.analysis.policy`), or with `--model`; without a bundle the analysis is static-only.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from typer.core import TyperCommand

EXIT_FINDINGS = 3
EXIT_INCOMPLETE = 4


class Format(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    markdown = "markdown"


class FailOn(str, Enum):
    never = "never"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


def lang_help() -> str:
    """`--lang`'s help: the registered analysis languages, in registry order."""
    from app.analysis import languages

    return f"Language override: {', '.join(languages.names())}."


class AnalyzeCommand(TyperCommand):
    """Fills in `--lang`'s choices from the language registry when the parameters are read (to parse a run or
    to print the help): the list cannot drift, and other commands start without importing the analysis package."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for p in params:
            if p.name == "lang":
                p.help = lang_help()
        return params


def register(cli: typer.Typer) -> None:
    cli.command("analyze", cls=AnalyzeCommand)(analyze)


def analyze(
    target: str = typer.Argument(..., help="A source file, a directory, or '-' to read code from stdin."),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format."),
    fail_on: FailOn = typer.Option(FailOn.never, "--fail-on", help="Exit 3 when a finding is at or above this label."),
    model: Optional[bool] = typer.Option(None, "--model/--no-model",
                                         help="Force the model layer on or off (default: on only when the bundle's "
                                              "measured eval shows it improves analysis)."),
    lang: Optional[str] = typer.Option(None, "--lang", help="Language override (the registered languages)."),
    as_json: bool = typer.Option(False, "--json", help="Same as --format json."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the output to this file instead of stdout."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="Bundle directory for the model (default: settings)."),
    include: Optional[List[str]] = typer.Option(None, "--include", help="Only files matching this glob (repeatable)."),
    exclude: Optional[List[str]] = typer.Option(None, "--exclude", help="Skip files and folders matching this glob (repeatable)."),
    honour_suppressions: bool = typer.Option(False, "--honour-suppressions", "--honor-suppressions",
                                             help="Obey inline nosec/nosemgrep comments (only for code you trust)."),
    show_unverified: bool = typer.Option(False, "--show-unverified", help="Also show model patches that failed verification."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="Report only findings not in this baseline (or SARIF) file."),
    write_baseline: Optional[Path] = typer.Option(None, "--write-baseline", help="Write the findings' fingerprints to this file."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List skipped files and folders too; progress on stderr "
                                                                 "even when it is not a terminal."),
) -> None:
    """Find security weaknesses: label, CWE, explanation and a verified fix per finding."""
    from app.analysis import analyze_code, analyze_path, label_rank, to_json, to_markdown, to_sarif, to_text, worst
    from app.analysis import baseline as bl
    from app.analysis.analyzer import hide_unverified
    from app.errors import BastionError
    from app.settings import load_settings

    settings = load_settings(**({"bundle": bundle} if bundle else {}))
    max_bytes = settings.analysis.max_file_bytes
    engine = _engine(settings, model) if model is not False else None
    use_model = engine is not None
    quiet = as_json or fmt == Format.json  # machine-readable output: nothing else on any stream
    progress = _Progress(live=sys.stderr.isatty()) if (sys.stderr.isatty() or verbose) and not quiet else None
    if progress and engine is not None and not engine.loaded:  # a remote engine has nothing to load
        progress.say(f"loading model {engine.name} …")
        engine.load()
        progress.say(f"model loaded in {engine.load_seconds or 0:.1f}s\n")
    if target == "-":
        data = sys.stdin.buffer.read()
        from app.analysis.analyzer import check_input

        code = check_input(data, where="stdin", max_bytes=max_bytes)
        reports = [analyze_code(code, language=lang, engine=engine, use_model=use_model, max_bytes=max_bytes,
                                honour_suppressions=honour_suppressions)]
        root = Path.cwd()
    else:
        if not Path(target).exists():
            raise BastionError(f"{target}: no such file or directory", hint="check the path, or pass '-' to read stdin")
        reports = analyze_path(target, engine=engine, use_model=use_model, language=lang, max_bytes=max_bytes,
                               progress=progress, include=include, exclude=exclude,
                               honour_suppressions=honour_suppressions)
        root = Path(target)
    if not show_unverified:
        hide_unverified(reports)
    base = bl.scan_root(reports, root)
    if baseline is not None:
        hidden = bl.apply(reports, bl.load(baseline), base)
        typer.echo(f"note: {hidden} finding(s) already in the baseline {baseline} are not reported", err=True)
    if write_baseline is not None:
        n = bl.write(write_baseline, reports, base)
        typer.echo(f"note: wrote {n} fingerprint(s) to {write_baseline}", err=True)
    chosen = Format.json if as_json else fmt
    if chosen == Format.text:
        text = to_text(reports, verbose=verbose)
    elif chosen == Format.json:
        text = to_json(reports, root=base)
    elif chosen == Format.sarif:
        text = to_sarif(reports, root=base)
    else:
        text = to_markdown(reports)
    if output:
        from app.atomic import write_text

        write_text(output, text + "\n")
    else:
        typer.echo(text)
    failed = [r for r in reports if r.status == "error" or r.errors]
    if failed:
        typer.echo(f"error: {len(failed)} file(s) could not be fully analysed (see the report); exit {EXIT_INCOMPLETE}",
                   err=True)
        raise typer.Exit(EXIT_INCOMPLETE)
    if not any(r.status == "analysed" for r in reports):
        typer.echo(f"error: nothing was analysed ({len(reports)} file(s) unsupported or skipped; -v lists them); "
                   f"exit {EXIT_INCOMPLETE}", err=True)
        raise typer.Exit(EXIT_INCOMPLETE)
    if fail_on != FailOn.never and label_rank(worst(reports)) >= label_rank(fail_on.value):
        raise typer.Exit(EXIT_FINDINGS)


def _engine(settings, forced: bool | None):
    """The chat engine when the model layer should run, else None (with a one-line note on stderr)."""
    from app.analysis.policy import decide
    from app.errors import BastionError
    from app.runtime import make_engine, open_bundle

    if forced is None and not settings.analysis.use_model:
        typer.echo("note: static analysis only: the settings turn the model layer off (analysis.use_model = false; "
                   "pass --model to run it)", err=True)
        return None
    bundle = None
    if settings.engine.kind == "local":
        try:
            bundle = open_bundle(settings)
        except BastionError as exc:
            if forced:
                raise
            typer.echo(f"note: no usable bundle ({str(exc).splitlines()[0]}); static analysis only", err=True)
            return None
    if not forced:
        metrics = bundle.manifest.metrics if bundle is not None else {}
        name = f"bundle '{bundle.manifest.name}'" if bundle is not None else "the remote engine"
        policy = decide(metrics, bundle_name=name)
        if not policy.use_model:
            typer.echo(f"note: {policy.reason}", err=True)
            return None
        typer.echo(f"note: model layer on: {policy.reason} (pass --no-model for static analysis only)", err=True)
    else:
        typer.echo("note: model layer on: --model was given", err=True)
    return make_engine(settings, bundle)


class _Progress:
    """Progress on stderr: files done/total, elapsed time, ETA, findings so far and the current file.

    On a terminal (`live`) one line rewritten in place; otherwise (-v into a log) one line per step.
    """

    def __init__(self, *, live: bool = True) -> None:
        import time

        self._clock = time.monotonic
        self.t0 = self._clock()
        self.live = live

    def say(self, text: str) -> None:
        if self.live:
            sys.stderr.write(f"\r{text:<80}")
        elif text.strip():
            sys.stderr.write(text.rstrip("\n") + "\n")
        sys.stderr.flush()

    def __call__(self, done: int, total: int, what: str, findings: int = 0) -> None:
        if done == 0:
            self.t0 = self._clock()  # each phase (static scan, model review) gets its own rate
        el = self._clock() - self.t0
        eta = f" ETA {_clock_text(el / done * (total - done))}" if 0 < done < total else ""
        self.say(f"[{done}/{total}] {_clock_text(el)}{eta} {findings} finding(s) {what[-44:]}")
        if done >= total and self.live:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _clock_text(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"
