"""The status line: model, bundle, tokens/s, time to first token, context budget in use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.reactive import reactive
from textual.widgets import Static

if TYPE_CHECKING:
    from app.bundle.loader import Bundle


def bundle_label(bundle: "Bundle | None") -> str:
    """The bundle's name and who signed it, for the status line."""
    if bundle is None:
        return "–"
    sig = bundle.signature
    if sig is None:
        return bundle.manifest.name
    if sig.ok:
        return f"{bundle.manifest.name} (signed: {sig.signer})"
    return f"{bundle.manifest.name} ({'UNSIGNED' if sig.state == 'unsigned' else 'untrusted signer'})"


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    model: reactive[str] = reactive("no model")
    bundle: reactive[str] = reactive("–")
    state: reactive[str] = reactive("starting")
    tokens_per_s: reactive[float | None] = reactive(None)
    ttft_s: reactive[float | None] = reactive(None)
    context_used: reactive[float | None] = reactive(None)

    def render(self) -> str:
        tps = f"{self.tokens_per_s:.1f} tok/s" if self.tokens_per_s else "– tok/s"
        ttft = f"TTFT {self.ttft_s * 1000:.0f} ms" if self.ttft_s is not None else "TTFT –"
        ctx = f"ctx {self.context_used:.0%}" if self.context_used is not None else "ctx –"
        return f"{self.state} │ {self.model} │ bundle {self.bundle} │ {tps} │ {ttft} │ {ctx}"

    def show_stats(self, stats) -> None:
        self.tokens_per_s = stats.tokens_per_s or None
        self.ttft_s = stats.ttft_s
        self.context_used = stats.context_used
