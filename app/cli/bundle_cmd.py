"""`bastion bundle info|verify|pack|unpack|starter`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer

bundle_app = typer.Typer(help="Inspect, verify and create bundles.", no_args_is_help=True)


def register(cli: typer.Typer) -> None:
    cli.add_typer(bundle_app, name="bundle")


def _resolve(path: Optional[Path]) -> Path:
    from app.settings import load_settings

    return path if path else load_settings().bundle_path()


@bundle_app.command("info")
def info(
    path: Optional[Path] = typer.Argument(None, help="Bundle directory (default: the configured bundle)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Describe a bundle: models, context, embedder, components, metrics."""
    from app.bundle import describe, load_bundle

    d = describe(load_bundle(_resolve(path), verify=False))
    if as_json:
        typer.echo(json.dumps(d, indent=2))
        return
    typer.echo(f"{d['name']}  (profile {d['profile']}, format {d['format_version']}, created {d['created']})")
    typer.echo(f"  path:        {d['path']}")
    typer.echo(f"  chat model:  {d['llm']}  (context {d['context_length']} tokens)")
    emb = d["embedder"]
    typer.echo(f"  embedder:    {emb['path']} dim {emb['dim']} ({emb['fingerprint'][:12]})" if emb else "  embedder:    none")
    typer.echo(f"  index:       {d['index'] or 'none'}")
    typer.echo(f"  signer:      {d['signature']}")
    typer.echo(f"  components:  {d['components']} files, {d['size_bytes'] / 1e6:.1f} MB")
    for k, v in d["tools"].items():
        typer.echo(f"  tool:        {k} {v}")
    for k, v in d["metrics"].items():
        typer.echo(f"  metric:      {k} = {v}")


@bundle_app.command("verify")
def verify(
    path: Optional[Path] = typer.Argument(None, help="Bundle directory or packed archive."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check every file against the manifest's sha256 and size. Exit 1 on any problem."""
    from app.bundle import verify_bundle
    from app.errors import BundleError

    target = _resolve(path)
    if target.is_file():
        from app.bundle.transport import verify_archive

        problems = verify_archive(target)
        signature = "carried inside; checked when the bundle is loaded"
    else:
        from app.bundle.signing import TrustPolicy, check_signature

        problems = verify_bundle(target, full=True)
        status = check_signature(target, TrustPolicy.default())
        signature = status.describe()
        if status.state == "invalid":  # altered after signing: not "unsigned", tampered
            problems.append(f"{target}: {signature}")
    if as_json:
        typer.echo(json.dumps({"path": str(target), "ok": not problems, "problems": problems, "signature": signature},
                              indent=2))
        if problems:
            raise typer.Exit(1)
        return
    if problems:
        for p in problems:
            typer.echo(f"  FAIL {p}", err=True)
        raise BundleError(f"{target}: {len(problems)} problem(s) found", hint="copy the bundle again or rebuild it")
    typer.echo(f"OK {target}: every component matches its sha256; {signature}")


@bundle_app.command("pack")
def pack(
    source: Path = typer.Argument(..., help="Bundle directory to pack."),
    archive: Path = typer.Argument(..., help="Archive to write (.tar; .tar.gz compresses)."),
) -> None:
    """Pack a verified bundle into one archive carrying its hashes, to carry across an air gap."""
    from app.bundle.transport import pack as pack_bundle

    out = pack_bundle(source, archive)
    typer.echo(f"OK packed {source} -> {out} ({out.stat().st_size / 1e6:.1f} MB)")


@bundle_app.command("unpack")
def unpack(
    archive: Path = typer.Argument(..., help="Archive made by `bastion bundle pack`."),
    dest: Optional[Path] = typer.Argument(None, help="New directory for the bundle (default: BASTION_HOME/bundles/<archive name>)."),
) -> None:
    """Verify and extract a packed bundle; a tampered, truncated or unsafe archive is refused."""
    from app import paths
    from app.bundle.transport import unpack as unpack_bundle

    if dest is None:
        name = archive.name
        for suffix in (".tar.gz", ".tgz", ".tar"):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                break
        dest = paths.bundles_dir() / name
    out = unpack_bundle(archive, dest)
    typer.echo(f"OK unpacked {archive} -> {out}: every component matches its sha256")


@bundle_app.command("starter")
def starter(out: Optional[Path] = typer.Option(None, "--out", help="Where to write it (default: BASTION_HOME/bundles/starter).")) -> None:
    """Create the starter bundle (runs `builder starter`; needs the [builder] extra)."""
    from app.errors import BastionError

    import importlib.util

    if importlib.util.find_spec("builder") is None or importlib.util.find_spec("torch") is None:
        raise BastionError(
            "creating the starter bundle needs the builder extra (torch, transformers)",
            hint="install it with `pipx install 'bastion[builder]'`, or copy a starter bundle made elsewhere",
        ) from None
    cmd = [sys.executable, "-m", "builder", "starter"] + (["--out", str(out)] if out else [])
    raise typer.Exit(subprocess.call(cmd))
