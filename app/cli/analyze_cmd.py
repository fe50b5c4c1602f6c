"""`bastion analyze FILE|DIR|-`: secure-code analysis with a CI-friendly exit code.

Exit codes: 0 = nothing at or above --fail-on; 3 = a finding at or above --fail-on;
1 = an error the user can fix (printed as `Error: ...`); 2 = bad command-line usage.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

EXIT_FINDINGS = 3


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


def register(cli: typer.Typer) -> None:
    cli.command("analyze")(analyze)


def analyze(
    target: str = typer.Argument(..., help="A source file, a directory, or '-' to read code from stdin."),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format."),
    fail_on: FailOn = typer.Option(FailOn.never, "--fail-on", help="Exit 3 when a finding is at or above this label."),
    no_model: bool = typer.Option(False, "--no-model", help="Static rules only (fast; no model explanation or patch)."),
    lang: Optional[str] = typer.Option(None, "--lang", help="Language override: python, javascript, typescript, php, java, c, cpp, bash, go."),
    as_json: bool = typer.Option(False, "--json", help="Same as --format json."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the output to this file instead of stdout."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="Bundle directory for the model (default: settings)."),
) -> None:
    """Find security weaknesses: label, CWE, explanation and a verified fix per finding."""
    from app.analysis import analyze_code, analyze_path, label_rank, to_json, to_markdown, to_sarif, to_text, worst
    from app.errors import BastionError
    from app.settings import load_settings

    settings = load_settings(**({"bundle": bundle} if bundle else {}))
    use_model = settings.analysis.use_model and not no_model
    max_bytes = settings.analysis.max_file_bytes
    engine = _engine(settings) if use_model else None
    progress = _progress if sys.stderr.isatty() and fmt == Format.text and not as_json else None
    if target == "-":
        data = sys.stdin.buffer.read()
        from app.analysis.analyzer import check_input

        code = check_input(data, where="stdin", max_bytes=max_bytes)
        reports = [analyze_code(code, language=lang, engine=engine, use_model=use_model, max_bytes=max_bytes)]
    else:
        if not Path(target).exists():
            raise BastionError(f"{target}: no such file or directory", hint="check the path, or pass '-' to read stdin")
        reports = analyze_path(target, engine=engine, use_model=use_model, language=lang, max_bytes=max_bytes,
                               progress=progress)
    render = {Format.text: to_text, Format.json: to_json, Format.sarif: to_sarif, Format.markdown: to_markdown}
    text = render[Format.json if as_json else fmt](reports)
    if output:
        from app.atomic import write_text

        write_text(output, text + "\n")
    else:
        typer.echo(text)
    if fail_on != FailOn.never and label_rank(worst(reports)) >= label_rank(fail_on.value):
        raise typer.Exit(EXIT_FINDINGS)


def _engine(settings):
    from app.runtime import make_engine, open_bundle

    bundle = open_bundle(settings) if settings.engine.kind == "local" else None
    return make_engine(settings, bundle)


def _progress(done: int, total: int, what: str) -> None:
    sys.stderr.write(f"\r[{done}/{total}] {what[-60:]:<60}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()
