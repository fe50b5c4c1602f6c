"""`bastion serve`: the bundle as an OpenAI-compatible HTTP API (team mode)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(cli: typer.Typer) -> None:
    cli.command("serve")(serve)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; beyond loopback an API key is required."),
    port: int = typer.Option(8088, "--port", help="TCP port."),
    api_key: Optional[str] = typer.Option(None, "--api-key", envvar="BASTION_SERVE_API_KEY",
                                          help="Clients must send `Authorization: Bearer KEY`."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="Bundle directory (default: settings, else the starter bundle)."),
    queue: int = typer.Option(16, "--queue", min=1, help="Requests that may wait per engine before the server answers 429."),
    api_key_file: Optional[Path] = typer.Option(None, "--api-key-file", help="Read the API key from this file (kept out of `ps`)."),
    allow_host: Optional[list[str]] = typer.Option(None, "--allow-host", help="Another host name clients may use in Host/Origin "
                                                   "(loopback names and the bound address are allowed; `*` allows any)."),
    max_body: int = typer.Option(2 * 1024 * 1024, "--max-body", min=1024, help="Largest request body in bytes (413 beyond)."),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="One line per request on stderr (never prompts)."),
) -> None:
    """Serve the bundle as an OpenAI-compatible API: /v1/chat/completions (RAG + citations), /v1/embeddings, /v1/models."""
    from app.errors import BastionError
    from app.serve.server import check_bind
    from app.serve.server import serve as run_server
    from app.settings import load_settings

    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ModuleNotFoundError:
        raise BastionError("`bastion serve` needs the serve extra (FastAPI, uvicorn)",
                           hint="pipx install 'bastion[serve]' (or pip install 'bastion[serve]')") from None
    import sys

    from app.serve.guard import ServeLimits
    from app.serve.server import read_key_file

    if api_key_file:
        api_key = read_key_file(api_key_file)
    elif api_key and any(a == "--api-key" or a.startswith("--api-key=") for a in sys.argv):
        typer.echo("Warning: --api-key is visible to every user in `ps`; use --api-key-file or BASTION_SERVE_API_KEY",
                   err=True)
    check_bind(host, api_key)  # before loading any model
    settings = load_settings(**({"bundle": bundle} if bundle else {}))

    def ready(state) -> None:
        where = f"http://{host}:{port}/v1"
        typer.echo(f"Serving {state.model_id} on {where}" + ("  (API key required)" if api_key else ""), err=True)

    run_server(settings, host=host, port=port, api_key=api_key, max_pending=queue, on_ready=ready,
               limits=ServeLimits(max_body_bytes=max_body), allow_hosts=allow_host, access_log=access_log)
