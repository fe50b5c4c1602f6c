"""Team mode: the bundle behind an OpenAI-compatible HTTP API (`bastion serve`)."""

from app.serve.api import ServeState, make_api
from app.serve.server import build_state, check_bind, is_loopback, serve

__all__ = ["ServeState", "build_state", "check_bind", "is_loopback", "make_api", "serve"]
