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
    d["context"] = _context(d["context_length"])
    if as_json:
        typer.echo(json.dumps(d, indent=2))
        return
    typer.echo(f"{d['name']}  (profile {d['profile']}, format {d['format_version']}, created {d['created']})")
    typer.echo(f"  path:        {d['path']}")
    c = d["context"]
    typer.echo(f"  chat model:  {d['llm']}")
    typer.echo(f"  context:     {c['applies']} tokens in use: {c['why']}")
    emb = d["embedder"]
    typer.echo(f"  embedder:    {emb['path']} dim {emb['dim']} ({emb['fingerprint'][:12]})" if emb else "  embedder:    none")
    typer.echo(f"  index:       {d['index'] or 'none'}")
    typer.echo(f"  signer:      {d['signature']}")
    typer.echo(f"  components:  {d['components']} files, {d['size_bytes'] / 1e6:.1f} MB")
    for k, v in d["tools"].items():
        typer.echo(f"  tool:        {k} {v}")
    for k, v in d["metrics"].items():
        typer.echo(f"  metric:      {k} = {v}")


def _context(bundle_ctx: int) -> dict:
    """The bundle's context length, the engine's n_ctx setting, and which one the engine runs with."""
    from app.settings import load_settings

    es = load_settings().engine
    if es.kind == "remote":
        applies, why = es.n_ctx, f"engine.n_ctx = {es.n_ctx} (remote engine; the bundle's {bundle_ctx} does not apply)"
    elif es.n_ctx <= bundle_ctx:
        applies, why = es.n_ctx, (f"setting engine.n_ctx = {es.n_ctx} (the bundle allows up to {bundle_ctx}; "
                                   "raise engine.n_ctx in config.toml to use more)")
    else:
        applies, why = bundle_ctx, f"the bundle's context length {bundle_ctx} caps setting engine.n_ctx = {es.n_ctx}"
    return {"bundle": bundle_ctx, "engine_n_ctx": es.n_ctx, "applies": applies, "why": why}


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


@bundle_app.command("create")
def create(
    name: str = typer.Argument(..., help="Name of the new bundle (its directory under BASTION_HOME/bundles)."),
    llm: Optional[Path] = typer.Option(None, "--llm", help="A chat model GGUF file."),
    from_ollama: Optional[str] = typer.Option(None, "--from-ollama", help="A model in the local Ollama store: NAME[:TAG]."),
    from_hf: Optional[str] = typer.Option(None, "--from-hf", help="A repository in the local Hugging Face cache: ORG/NAME."),
    hf_file: Optional[str] = typer.Option(None, "--hf-file", help="Which GGUF of the --from-hf snapshot, when it has several."),
    ollama_dir: Optional[Path] = typer.Option(None, "--ollama-dir", help="Ollama's models directory (default: $OLLAMA_MODELS or ~/.ollama/models)."),
    from_bundle: Optional[Path] = typer.Option(None, "--from-bundle", help="Take embedder, index and prompts from this bundle (name or path; default: the starter)."),
    embedder: Optional[Path] = typer.Option(None, "--embedder", help="An embedding GGUF: index the security notes with it instead of reusing the starter's index."),
    chat_template: Optional[Path] = typer.Option(None, "--chat-template", help="A Jinja chat template to use instead of the GGUF's own."),
    force: bool = typer.Option(False, "--force", help="Replace an existing bundle of that name."),
    use: bool = typer.Option(False, "--use", help="Switch to the new bundle once it is sealed."),
    as_json: bool = typer.Option(False, "--json", help="Print the new bundle's summary as JSON."),
) -> None:
    """Make a sealed, verified bundle from your own GGUF (a file, an Ollama store or the HF cache)."""
    from app.bundle.catalog import BundleEntry, bundle_dir
    from app.bundle.create import create_bundle, resolve_source
    from app.bundle.loader import read_manifest

    source = resolve_source(llm=llm, from_ollama=from_ollama, from_hf=from_hf, hf_file=hf_file, ollama_dir=ollama_dir)
    out = create_bundle(name, source, base=bundle_dir(from_bundle) if from_bundle else None,
                        chat_template=chat_template, embedder=embedder, force=force,
                        progress=(lambda m: None) if as_json else (lambda m: typer.echo(m, err=True)))
    if use:
        _use(out)
    row = BundleEntry(name, out, read_manifest(out)).summary()
    if as_json:
        typer.echo(json.dumps(row, indent=2))
        return
    typer.echo(f"OK {name}: {row['model']}, context {row['context_length']}, "
               f"{row['tokens_per_s']} tokens/s, first token {row['ttft_s']}s  ->  {out}")
    if not use:
        typer.echo(f"Switch to it with `bastion bundle use {name}`.")


@bundle_app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Every bundle under BASTION_HOME/bundles: model, size, context, measured speed, suggested fit."""
    from app.bundle.catalog import list_bundles

    active = _resolve(None)
    rows = [e.summary(active=active) for e in list_bundles()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("No bundles yet: `builder starter`, or `bastion bundle create NAME --llm FILE.gguf`.")
        return
    for r in rows:
        mark = "*" if r["active"] else " "
        if "problem" in r:
            typer.echo(f"{mark} {r['name']:<16} unreadable: {r['problem']}")
            continue
        speed = f"{r['tokens_per_s']:.1f} tok/s, TTFT {r['ttft_s']:.2f}s" if r["tokens_per_s"] is not None else "speed not measured"
        verdict = f", analysis {r['analysis_verdict']}" if r["analysis_verdict"] else ""
        typer.echo(f"{mark} {r['name']:<16} {r['model']:<28} {r['size_bytes'] / 1e6:8.0f} MB  ctx {r['context_length']:<6} "
                   f"{speed}{verdict}")
        if r["fit"]:
            typer.echo(f"  {'':<16} suggested: {r['fit']}")


@bundle_app.command("use")
def use_cmd(name: str = typer.Argument(..., help="Bundle name (see `bastion bundle list`) or directory.")) -> None:
    """Make NAME the bundle `ask`, `analyze`, the TUI and `serve` use (writes the setting)."""
    from app.bundle.catalog import bundle_dir

    _use(bundle_dir(name))


@bundle_app.command("remove")
def remove_cmd(name: str = typer.Argument(..., help="Bundle name under BASTION_HOME/bundles.")) -> None:
    """Delete a bundle (never the one in use)."""
    from app.bundle.catalog import remove_bundle

    removed = remove_bundle(name, active=_resolve(None))
    typer.echo(f"OK removed {removed}")


def _use(path: Path) -> None:
    from app.bundle import load_bundle
    from app.settings import load_settings, save_settings

    bundle = load_bundle(path)  # refuse to switch to an unsound bundle
    settings = load_settings()
    settings.bundle = bundle.root.resolve()
    cfg = save_settings(settings)
    typer.echo(f"OK using bundle {bundle.manifest.name} ({bundle.root}); saved in {cfg}")
