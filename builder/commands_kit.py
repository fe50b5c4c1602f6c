"""`builder kit`: make the offline install kit for an air-gapped laptop."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(cli: typer.Typer) -> None:
    cli.command("kit")(kit)


def kit(
    out: Path = typer.Option(..., "--out", help="New directory for the kit."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="Bundle to include (default: the starter bundle)."),
    no_bundle: bool = typer.Option(False, "--no-bundle", help="Leave the bundle out (move it with `bastion bundle pack`)."),
    extras: str = typer.Option("", "--extras", help="Comma-separated extras to include, e.g. serve."),
    python: Optional[str] = typer.Option(None, "--python", help="Target interpreter (same version as the laptop's)."),
    source: Optional[Path] = typer.Option(None, "--source", help="Bastion source checkout (default: this one)."),
    bastion_wheel: Optional[Path] = typer.Option(None, "--bastion-wheel", help="Use this Bastion wheel instead of building one."),
    llama_wheel: Optional[Path] = typer.Option(None, "--llama-wheel", help="A llama-cpp-python wheel built for the target (e.g. CUDA)."),
    no_pin: bool = typer.Option(False, "--no-pin", help="Let pip pick the newest versions instead of the ones installed here."),
    archive: bool = typer.Option(False, "--tar", help="Also write the kit as one OUT.tar."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Collect every wheel (llama-cpp-python prebuilt), the bundle, hashes and install.sh into one directory."""
    import json

    from builder.kit import make_kit

    rep = make_kit(out, bundle=bundle, with_bundle=not no_bundle, extras=extras.split(","), python=python,
                   source=source, bastion_wheel=bastion_wheel, llama_wheel=llama_wheel, pin_installed=not no_pin, archive=archive,
                   progress=lambda m: typer.echo(f"· {m}", err=True))
    if as_json:
        typer.echo(json.dumps({"path": str(rep.path), "files": rep.files, "sizes": rep.sizes, "total": rep.total,
                               "fingerprint": rep.fingerprint, "seconds": round(rep.seconds, 1),
                               "archive": str(rep.archive) if rep.archive else None}, indent=2))
        return
    typer.echo(f"kit: {rep.path}  ({rep.files} files, {rep.total / 1e6:.1f} MB, {rep.seconds:.0f}s)")
    for comp, size in sorted(rep.sizes.items(), key=lambda kv: -kv[1]):
        typer.echo(f"  {comp:17} {size / 1e6:8.1f} MB")
    if rep.archive:
        typer.echo(f"archive: {rep.archive}")
    typer.echo(f"fingerprint: {rep.fingerprint}  (install.sh prints it on the laptop: compare)")
    typer.echo(f"on the air-gapped machine: bash {rep.path.name}/install.sh")
