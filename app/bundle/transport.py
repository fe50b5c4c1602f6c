"""Move a bundle across an air gap as one tar archive, and refuse anything damaged.

`pack` writes a verified bundle into one `.tar` (or `.tar.gz`). `verify_archive`
reads an archive in one streaming pass and checks every member against the
bundle's own manifest (sha256 and size). `unpack` extracts into a staging
directory beside the target, checks the same hashes, and only then renames the
staging directory into place: a tampered, truncated or hostile archive leaves
nothing behind. Members are written by this module, never by
`tarfile.extract`, and only regular files and directories with plain relative
names are accepted (no `..`, absolute paths, links or device files).

Before tarfile parses anything, `targuard.check_headers` bounds the PAX
headers (CVE-2024-6232). Unpacking first reads only the manifest (a pass that
writes nothing); then every member must be listed in it with the recorded size
*before* a byte of it is written, so an archive cannot write more than its
manifest declares, and the free space at the target is checked against that
total first.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable

from app.bundle.manifest import MANIFEST_NAME, Manifest
from app.bundle.signing import SIGNATURE_NAME
from app.bundle.targuard import TarHeaderError, check_headers
from app.errors import BundleError

log = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
_MAX_MANIFEST = 16 * 1024 * 1024
_MAX_SIGNATURE = 64 * 1024


class _DiskFull(Exception):
    """Writing a member failed for lack of space (reported as such, not as a corrupt archive)."""


@dataclass
class _Scan:
    """What one pass over an archive found."""

    digests: dict[str, tuple[str, int]] = field(default_factory=dict)
    manifest_raw: bytes | None = None
    manifest: Manifest | None = None
    problems: list[str] = field(default_factory=list)
    stop_early: bool = False
    """Unpacking: stop at the first problem (nothing more is written)."""
    dest: Path | None = None


def pack(bundle_dir: Path, archive: Path) -> Path:
    """Write the (verified) bundle at `bundle_dir` into `archive`; returns the archive path.

    The manifest goes first, then every component it lists, in its order. A
    name ending in `.gz`/`.tgz` gives a gzip archive, anything else plain tar
    (GGUF weights barely compress).
    """
    from app.atomic import atomic_path
    from app.bundle.loader import read_manifest, verify_bundle

    bundle_dir = Path(bundle_dir).expanduser()
    archive = Path(archive).expanduser()
    manifest = read_manifest(bundle_dir)
    problems = verify_bundle(bundle_dir, full=True)
    if problems:
        raise BundleError(
            f"refusing to pack {bundle_dir}: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            hint="run `bastion bundle verify` and rebuild or re-copy the bundle first",
        )
    if archive.resolve().is_relative_to(bundle_dir.resolve()):
        raise BundleError(f"{archive}: the archive cannot be written inside the bundle it packs", hint="choose a path outside the bundle")
    mode = "w:gz" if archive.name.endswith((".gz", ".tgz")) else "w"
    signed = [SIGNATURE_NAME] if (bundle_dir / SIGNATURE_NAME).is_file() else []
    names = [MANIFEST_NAME] + signed + [c.path for c in manifest.components]
    with atomic_path(archive) as tmp:
        with tarfile.open(tmp, mode, format=tarfile.PAX_FORMAT) as tar:
            for rel in names:
                tar.add(bundle_dir / rel, arcname=rel, recursive=False, filter=_normalise)
    log.info("packed %s (%d files) into %s", bundle_dir, len(names), archive)
    return archive


def verify_archive(archive: Path) -> list[str]:
    """Check every member of a packed bundle against its manifest; [] when sound."""
    archive = Path(archive).expanduser()
    scan = _scan(archive, sink=None)
    return _judge(archive, scan)


def _disk_full(archive: Path, dest: Path, exc: BaseException) -> BundleError:
    free = shutil.disk_usage(dest.parent).free
    return BundleError(f"no space left on the disk holding {dest.parent} while unpacking {archive} "
                       f"({exc}; {free // (1024 * 1024)} MiB free now); nothing was kept",
                       hint="free some space (or choose a target on a larger disk) and unpack again")


def unpack(archive: Path, dest: Path) -> Path:
    """Extract a packed bundle to `dest` (which must not exist), verified; returns `dest`.

    Raises `BundleError` naming the first problem; on failure nothing is left
    at `dest` and the staging directory is removed.
    """
    from app.bundle.loader import verify_bundle

    archive = Path(archive).expanduser()
    dest = Path(dest).expanduser()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BundleError(f"{dest} already exists", hint="choose a new directory, or remove the old bundle first")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.unpack-", dir=dest.parent))
    try:
        try:
            scan = _scan(archive, sink=lambda rel: _open_in(staging, rel), dest=staging)
        except _DiskFull as exc:
            raise _disk_full(archive, dest, exc) from None
        problems = _judge(archive, scan)
        if not problems:
            problems = verify_bundle(staging, full=True)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise BundleError(
                f"refusing {archive}: {problems[0]}{more}",
                hint="the archive is damaged or was altered; copy it again from the source and re-run "
                "`bastion bundle verify ARCHIVE`",
            )
        if dest.exists():
            dest.rmdir()  # empty, checked above
        os.replace(staging, dest)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    log.info("unpacked %s into %s", archive, dest)
    return dest


# -- internals -------------------------------------------------------------------


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o644
    return info


def safe_member_name(name: str) -> str | None:
    """The member's relative POSIX path, or None when it could escape the target."""
    if not name or "\\" in name or "\x00" in name:
        return None
    p = PurePosixPath(name)
    if p.is_absolute() or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = [x for x in p.parts if x not in ("", ".")]
    if not parts or any(x == ".." for x in parts):
        return None
    return "/".join(parts)


def _open_in(root: Path, rel: str) -> BinaryIO:
    target = root / rel
    # Parents are created by us, inside root; refuse if any already exists as a non-directory.
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.resolve().is_relative_to(root.resolve()):
        raise BundleError(f"member {rel!r} resolves outside the target directory", hint="the archive is hostile; do not use it")
    return open(target, "xb")


class _Stop(Exception):
    """Unpacking met a problem: stop reading (and writing) at once."""


def _scan(archive: Path, *, sink: Callable[[str], BinaryIO] | None, dest: Path | None = None) -> _Scan:
    """One streaming pass: hash every regular file; reject unsafe members."""
    scan = _Scan(stop_early=sink is not None, dest=dest)
    if not archive.is_file():
        scan.problems.append(f"{archive}: not found")
        return scan
    try:
        check_headers(archive)
    except TarHeaderError as exc:
        scan.problems.append(f"{archive}: hostile or malformed tar header ({exc})")
        return scan
    except (OSError, EOFError, ValueError) as exc:  # a damaged gzip stream and friends
        scan.problems.append(f"{archive}: archive is truncated or corrupt ({exc.__class__.__name__}: {exc})")
        return scan
    try:
        tar = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        scan.problems.append(f"{archive}: not a readable tar archive ({exc})")
        return scan
    try:
        if sink is not None:  # unpacking: know the manifest (and so every allowed name and size) before writing
            tar.close()
            _prepass(archive, scan)
            if scan.problems or scan.manifest is None:
                if scan.manifest is None and not scan.problems:
                    scan.problems.append(f"{archive}: no {MANIFEST_NAME} inside; it is not a packed bundle")
                return scan
            tar = tarfile.open(archive, "r:*")
        with tar:
            for info in tar:
                _take(tar, info, scan, sink)
                if scan.stop_early and scan.problems:
                    raise _Stop
            end = tar.offset
        # tar pads to whole records (10240 bytes) after the two zero blocks that end it; a shorter file was cut.
        padded = -(-(end + 2 * tarfile.BLOCKSIZE) // tarfile.RECORDSIZE) * tarfile.RECORDSIZE
        if not _compressed(archive) and archive.stat().st_size < padded:
            scan.problems.append(f"{archive}: archive is truncated (it stops before the end-of-archive marker)")
    except _Stop:
        pass
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        # tarfile reports a cut-off archive as ReadError/EOFError; zlib as OSError.
        scan.problems.append(f"{archive}: archive is truncated or corrupt ({exc.__class__.__name__}: {exc})")
    return scan


def _prepass(archive: Path, scan: _Scan) -> None:
    """Read only the manifest (other members' data is skipped, never written), then check the free space."""
    with tarfile.open(archive, "r:*") as tar:
        for info in tar:
            if safe_member_name(info.name) != MANIFEST_NAME or not info.isreg():
                continue
            if info.size > _MAX_MANIFEST:
                scan.problems.append(f"member {MANIFEST_NAME!r}: {info.size} bytes, over the {_MAX_MANIFEST}-byte limit; refused")
                return
            scan.manifest_raw = tar.extractfile(info).read()
            break
    if scan.manifest_raw is not None:
        _read_manifest(scan)


def _compressed(archive: Path) -> bool:
    with open(archive, "rb") as fh:
        head = fh.read(6)
    return head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ"))


def _take(tar: tarfile.TarFile, info: tarfile.TarInfo, scan: _Scan, sink: Callable[[str], BinaryIO] | None) -> None:
    rel = safe_member_name(info.name)
    if rel is None:
        scan.problems.append(f"member {info.name!r}: unsafe path (absolute or contains '..'); refused")
        return
    if info.isdir():
        return
    if not info.isreg():
        kind = "symlink" if info.issym() else "hard link" if info.islnk() else "device or special file"
        scan.problems.append(f"member {rel!r}: {kind} in a bundle archive; refused")
        return
    if rel in scan.digests:
        scan.problems.append(f"member {rel!r}: appears twice in the archive; refused")
        return
    if not _admit(rel, info, scan):
        return
    src = tar.extractfile(info)
    if src is None:  # pragma: no cover - isreg() members always have data
        return
    h = hashlib.sha256()
    keep = rel in (MANIFEST_NAME, SIGNATURE_NAME)
    buf = bytearray()
    try:
        out = sink(rel) if sink else None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise _DiskFull(str(exc)) from None
        scan.problems.append(f"member {rel!r}: cannot be written ({exc.strerror}); refused")
        return
    n = 0
    try:
        while block := src.read(_CHUNK):
            h.update(block)
            n += len(block)
            if keep:
                buf += block
            if out:
                out.write(block)
        if out:
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _DiskFull(str(exc)) from None
        raise
    finally:
        if out:
            try:
                out.close()
            except OSError:
                pass
    if n != info.size:
        raise EOFError(f"member {rel!r} ends after {n} of {info.size} bytes")
    scan.digests[rel] = (h.hexdigest(), n)
    if rel == MANIFEST_NAME:
        if scan.manifest is not None and bytes(buf) != scan.manifest_raw:
            scan.problems.append(f"{MANIFEST_NAME} changed while the archive was read; refused")
        elif scan.manifest is None:
            scan.manifest_raw = bytes(buf)
            _read_manifest(scan)


def _admit(rel: str, info: tarfile.TarInfo, scan: _Scan) -> bool:
    """May this member be read (and written)? Decided from its header alone, before any data."""
    if rel == MANIFEST_NAME:
        if info.size > _MAX_MANIFEST:
            scan.problems.append(f"member {rel!r}: {info.size} bytes, over the {_MAX_MANIFEST}-byte limit; refused")
            return False
        return True
    if rel == SIGNATURE_NAME:
        if info.size > _MAX_SIGNATURE:
            scan.problems.append(f"member {rel!r}: {info.size} bytes, over the {_MAX_SIGNATURE}-byte limit; refused")
            return False
        return True
    if scan.manifest is None:  # verifying, manifest not read yet: hash it now, judge it at the end
        return True
    comp = scan.manifest.component(rel)
    if comp is None:
        scan.problems.append(f"{rel}: in the archive but not listed in the manifest; refused")
        return False
    if info.size != comp.size:
        scan.problems.append(f"{rel}: {info.size} bytes in the archive, manifest says {comp.size}; refused")
        return False
    return True


def _read_manifest(scan: _Scan) -> None:
    """Parse the manifest as soon as it is read, and check the target can hold what it lists."""
    try:
        scan.manifest = Manifest.model_validate(json.loads(scan.manifest_raw.decode("utf-8")))
    except (ValueError, UnicodeDecodeError) as exc:
        scan.problems.append(f"{MANIFEST_NAME} inside is damaged ({str(exc).splitlines()[0]})")
        return
    if scan.dest is not None and scan.manifest is not None:
        need = sum(c.size for c in scan.manifest.components)
        free = shutil.disk_usage(scan.dest).free
        if need > free:
            raise _DiskFull(f"the bundle needs {need} bytes, {free} free")


def _judge(archive: Path, scan: _Scan) -> list[str]:
    """Compare what the pass found with the archive's manifest."""
    problems = list(scan.problems)
    if scan.manifest_raw is None:
        if not any("truncated" in p or "not a readable" in p or "not found" in p for p in problems):
            problems.append(f"{archive}: no {MANIFEST_NAME} inside; it is not a packed bundle")
        return problems
    manifest = scan.manifest
    if manifest is None:
        return [p if not p.startswith(MANIFEST_NAME) else f"{archive}: {p}" for p in problems]
    listed = {c.path for c in manifest.components}
    for comp in manifest.components:
        got = scan.digests.get(comp.path)
        if got is None:
            problems.append(f"{comp.path}: listed in the manifest but missing from the archive (cut short?)")
        elif got[1] != comp.size:
            problems.append(f"{comp.path}: {got[1]} bytes in the archive, manifest says {comp.size}")
        elif got[0] != comp.sha256:
            problems.append(f"{comp.path}: sha256 {got[0][:12]}… does not match manifest {comp.sha256[:12]}… (altered)")
    for rel in scan.digests:
        if rel not in (MANIFEST_NAME, SIGNATURE_NAME) and rel not in listed:
            problems.append(f"{rel}: in the archive but not listed in the manifest; refused")
    return list(dict.fromkeys(problems))
