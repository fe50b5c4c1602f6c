"""`bastion bundle keygen|sign|trust|signer`: who made a bundle, and whom this machine trusts."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(cli: typer.Typer) -> None:
    from app.cli.bundle_cmd import bundle_app

    bundle_app.command("keygen")(keygen)
    bundle_app.command("sign")(sign)
    bundle_app.command("trust")(trust)
    bundle_app.command("signer")(signer)


def keygen(
    path: Path = typer.Argument(..., help="Private key file to create (the public key goes to PATH.pub)."),
    label: str = typer.Option("", "--label", help="A name for the key, shown as the bundle's signer."),
) -> None:
    """Make an Ed25519 signing key for an organisation's bundles (keep the private file off the laptops)."""
    from app.bundle.signing import generate_key

    pub = generate_key(path, label=label or path.stem)
    typer.echo(f"OK private key {path} (mode 0600); public key {pub}:")
    typer.echo(pub.read_text(encoding="utf-8").strip())


def sign(
    bundle: Path = typer.Argument(..., help="Bundle directory whose manifest.json to sign."),
    key: Optional[Path] = typer.Option(None, "--key", help="Private key (default: BASTION_SIGNING_KEY, else this machine's key)."),
) -> None:
    """Sign a verified bundle's manifest (which hashes every file) with KEY."""
    from app.bundle import verify_bundle
    from app.bundle.signing import load_private_key, sign_bundle
    from app.errors import BundleError

    problems = verify_bundle(bundle, full=True)
    if problems:
        raise BundleError(f"refusing to sign {bundle}: {problems[0]}", hint="only a bundle that verifies can be signed")
    kid = sign_bundle(bundle, load_private_key(key) if key else None)
    typer.echo(f"OK signed {bundle} with {kid}")


def trust(
    key: str = typer.Argument(..., help="A public key line (`ed25519:...`) or a .pub file."),
    name: str = typer.Option(..., "--name", help="Name to show as the signer (also the file name under keys/trusted)."),
) -> None:
    """Trust bundles signed by KEY on this machine (BASTION_HOME/keys/trusted/NAME.pub)."""
    from app.bundle.signing import key_id, parse_public_key, trust_public_key
    import re

    from app.errors import BastionError

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
        raise BastionError(f"key name {name!r} is not a plain name", hint="use letters, digits, '.', '_' or '-'")
    text = Path(key).read_text(encoding="utf-8") if Path(key).is_file() else key
    try:
        public, _ = parse_public_key(text)
    except Exception as exc:
        raise BastionError(f"not an Ed25519 public key ({exc})", hint="give the `ed25519:...` line from `bastion bundle keygen`") from None
    dst = trust_public_key(text.strip().split()[0] + " " + name, name=name)
    typer.echo(f"OK trusting {key_id(public)} as {name!r} ({dst})")


def signer(bundle: Optional[Path] = typer.Argument(None, help="Bundle directory (default: the configured bundle).")) -> None:
    """Who signed the bundle, and whether this machine trusts that key. Exit 1 unless trusted."""
    from app.bundle.signing import TrustPolicy, check_signature
    from app.settings import load_settings

    settings = load_settings()
    root = bundle or settings.bundle_path()
    status = check_signature(root, TrustPolicy.from_settings(settings))
    typer.echo(f"{root}: {status.describe()}")
    if not status.ok:
        raise typer.Exit(1)
