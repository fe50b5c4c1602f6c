"""Command palette: "Bundle: use NAME" for every bundle under BASTION_HOME/bundles, no restart needed."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class BundleCommands(Provider):
    """Offers each installed bundle; choosing one saves the setting and reopens bundle and engine."""

    def _entries(self) -> list[tuple[str, str, str]]:
        from app.bundle.catalog import list_bundles

        active = self.app.settings.bundle_path()
        out = []
        for e in list_bundles():
            if e.manifest is None:
                continue
            row = e.summary(active=active)
            speed = f", {row['tokens_per_s']:.1f} tok/s" if row.get("tokens_per_s") else ""
            help_text = f"{row['model']}, context {row['context_length']}{speed}" + (" (in use)" if row["active"] else "")
            out.append((f"Bundle: use {e.name}", str(e.path), help_text))
        return out

    async def discover(self) -> Hits:
        for title, path, help_text in self._entries():
            yield DiscoveryHit(title, partial(self._use, path), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, path, help_text in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._use, path), help=help_text)

    async def _use(self, path: str) -> None:
        switch_bundle(self.app, path)


def switch_bundle(app, path: str) -> None:
    """Point the settings at `path` and let the app reopen bundle and engine (it does when the path changes)."""
    from pathlib import Path

    new = app.settings.model_copy(update={"bundle": Path(path)})
    app.apply_settings(new)
    app.notify(f"Switching to bundle {Path(path).name}…")
