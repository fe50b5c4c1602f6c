"""Load and verify bundles. The app never writes inside a bundle directory."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from app import paths
from app.bundle.hashing import sha256_file
from app.bundle.manifest import FORMAT_VERSION, MANIFEST_NAME, Manifest
from app.errors import BundleError

if TYPE_CHECKING:
    from app.bundle.signing import SignatureStatus, TrustPolicy

log = logging.getLogger(__name__)

STARTER_HINT = "create the starter bundle with `builder starter`, or set `bundle` in settings"


@dataclass(frozen=True)
class Bundle:
    """A loaded bundle: its directory and validated manifest."""

    root: Path
    manifest: Manifest
    signature: "SignatureStatus | None" = None
    """Who signed the manifest, checked against the trusted keys (None: not checked)."""

    def file(self, rel: str) -> Path:
        return self.root / rel

    @property
    def llm_path(self) -> Path:
        return self.file(self.manifest.llm)

    @property
    def embedder_path(self) -> Path | None:
        e = self.manifest.embedder
        return self.file(e.path) if e else None

    @property
    def index_path(self) -> Path | None:
        return self.file(self.manifest.index) if self.manifest.index else None

    @property
    def prompts_path(self) -> Path | None:
        return self.file(self.manifest.prompts) if self.manifest.prompts else None


def read_manifest(root: Path) -> Manifest:
    """Parse manifest.json; every failure names the file and what to do."""
    root = Path(root).expanduser()
    mpath = root / MANIFEST_NAME
    if not root.exists():
        raise BundleError(f"bundle not found: {root}", hint=STARTER_HINT)
    if not root.is_dir():
        raise BundleError(
            f"{root} is a file, not a bundle directory",
            hint="unpack it first with `bastion bundle unpack ARCHIVE DIR`",
        )
    if not mpath.is_file():
        raise BundleError(f"{mpath}: manifest missing, {root} is not a bundle", hint=STARTER_HINT)
    try:
        raw = json.loads(mpath.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise BundleError(
            f"{mpath}{where}: manifest is not valid JSON ({exc})",
            hint="the bundle is corrupt; copy it again or rebuild it",
        ) from None
    except (RecursionError, ValueError) as exc:  # nested thousands deep, or an integer over 4300 digits
        raise BundleError(f"{mpath}: manifest is not a bundle manifest ({type(exc).__name__}: {str(exc)[:80]})",
                          hint="the bundle is corrupt or hostile; copy it again or rebuild it") from None
    if not isinstance(raw, dict):
        raise BundleError(f"{mpath}: manifest must be a JSON object", hint="rebuild the bundle")
    version = raw.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleError(
            f"{mpath}: bundle format_version {version!r} is not supported "
            f"(this Bastion reads format {FORMAT_VERSION})",
            hint="rebuild the bundle with a matching `builder`, or upgrade Bastion",
        )
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise BundleError(
            f"{mpath}: field {field!r}: {err['msg']} (got {err.get('input')!r})",
            hint="the manifest is damaged; rebuild the bundle",
        ) from None


def verify_bundle(root: Path, *, full: bool = True) -> list[str]:
    """Check every component exists with the recorded size and sha256.

    Returns the list of problems (empty when the bundle is sound). With
    `full=False` a file whose (size, mtime) matches a previous successful check
    is not re-hashed: hashing a 5 GB model at every launch is wasted time.
    """
    root = Path(root).expanduser()
    manifest = read_manifest(root)
    problems: list[str] = []
    seen = _load_verified_cache() if not full else {}
    fresh: dict[str, list] = {}
    for comp in manifest.components:
        path = root / comp.path
        if not _inside(root, path):
            problems.append(f"{comp.path}: path escapes the bundle directory")
            continue
        if not path.is_file():
            problems.append(f"{path}: missing (listed in manifest.json)")
            continue
        st = path.stat()
        if st.st_size != comp.size:
            problems.append(f"{path}: size {st.st_size} bytes, manifest says {comp.size}")
            continue
        key = str(path.resolve())
        stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, comp.sha256]
        if seen.get(key) == stamp:
            fresh[key] = stamp
            continue
        digest = sha256_file(path)
        if digest != comp.sha256:
            problems.append(f"{path}: sha256 {digest[:12]}… does not match manifest {comp.sha256[:12]}…")
            continue
        fresh[key] = stamp
    for rel in _required_paths(manifest) + ([manifest.index] if manifest.index else []):
        if not _inside(root, root / rel):
            problems.append(f"{rel}: resolves outside the bundle directory (symlink?); refused")
        elif manifest.component(rel) is None and not (root / rel).is_dir():
            problems.append(f"{root / rel}: referenced by manifest.json but not listed as a component")
    if not problems:
        _save_verified_cache(fresh)
    return problems


def load_bundle(root: Path | None = None, *, verify: bool = True, trust: "TrustPolicy | None" = None) -> Bundle:
    """Load a bundle (default: the starter bundle); raise `BundleError` if it is unsound.

    With `verify`, the manifest's signer must be trusted (`trust`, default: the
    user's settings and trusted-keys directory) and every file must match it.
    Without, the signature is only reported (for `bundle info` and `doctor`).
    """
    from app.bundle.signing import TrustPolicy, check_signature, enforce

    root = Path(root).expanduser() if root else paths.starter_bundle_dir()
    manifest = read_manifest(root)
    policy = trust if trust is not None else TrustPolicy.default()
    if not verify:
        return Bundle(root=root, manifest=manifest, signature=check_signature(root, policy))
    signature = enforce(root, policy)
    problems = verify_bundle(root, full=False)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise BundleError(
            f"bundle {root} failed verification: {problems[0]}{more}",
            hint="run `bastion bundle verify` for details; copy the bundle again or rebuild it",
        )
    return Bundle(root=root, manifest=manifest, signature=signature)


def describe(bundle: Bundle) -> dict:
    """A plain summary for `bastion bundle info` and the TUI."""
    m = bundle.manifest
    total = sum(c.size for c in m.components)
    return {
        "path": str(bundle.root),
        "name": m.name,
        "profile": m.profile,
        "format_version": m.format_version,
        "created": m.created.isoformat(),
        "description": m.description,
        "llm": m.llm,
        "context_length": m.context_length,
        "embedder": m.embedder.model_dump() if m.embedder else None,
        "index": m.index,
        "reranker": m.reranker,
        "components": len(m.components),
        "size_bytes": total,
        "tools": m.tools,
        "metrics": m.metrics,
        "signature": bundle.signature.describe() if bundle.signature else "not checked",
        "signer": bundle.signature.signer if bundle.signature else None,
        "signer_key": bundle.signature.key_id if bundle.signature else None,
    }


def _required_paths(m: Manifest) -> list[str]:
    out = [m.llm]
    if m.embedder:
        out.append(m.embedder.path)
    if m.reranker:
        out.append(m.reranker)
    if m.prompts:
        out.append(m.prompts)
    return out


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _cache_file() -> Path:
    return paths.cache_dir() / "verified.json"


def _load_verified_cache() -> dict:
    try:
        return json.loads(_cache_file().read_text())
    except (OSError, ValueError):
        return {}


def _save_verified_cache(fresh: dict) -> None:
    from app.atomic import write_text

    data = _load_verified_cache()
    data.update(fresh)
    try:
        write_text(_cache_file(), json.dumps(data))
    except OSError as exc:  # a read-only cache only costs re-hashing next time
        log.debug("could not write verification cache: %s", exc)
