"""Run directories: one folder per build, one subfolder per stage, each with a `meta.json`.

    runs/<profile>-<name>/
      run.json              profile name, created
      data/   meta.json + train.jsonl, val.jsonl, data_report.json, ...
      train/  meta.json + adapter/, checkpoints/, ...
      export/ meta.json + model-f16.gguf, model-Q4_K_M.gguf, ...

A stage is *fresh* (skipped) when its meta.json says `complete` and its
fingerprint — a hash of the resolved config and the input files' sha256 — is
unchanged and every recorded output still exists. A stage whose meta.json says
`running` was interrupted: calling `begin()` again with the same fingerprint
keeps its folder (so training resumes from its last checkpoint); a different
fingerprint empties the folder first. `finish()` writes the `complete`
meta.json atomically, as the very last step, so a kill at any point before it
leaves the stage to rerun.

Stage functions share one calling convention so the CLI and `builder build`
call them the same way::

    result = run_data(run, profile, inputs=[...], force=False, progress=print)
    result = run_train(run, profile, force=False, progress=print, **overrides)
    result = run_export(run, profile, force=False, progress=print)

Each returns a `StageResult`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from app.atomic import write_text
from app.errors import BastionError

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
META = "meta.json"
RUNS_DIR = Path("runs")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(config: Any) -> str:
    """sha256 of a JSON-able config (key order does not matter)."""
    return hashlib.sha256(_canonical(config).encode()).hexdigest()


class HashCache:
    """sha256 of files, remembered by (path, size, mtime) so multi-GB weights are hashed once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._data: dict[str, list] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._data = {}

    def file(self, p: Path) -> str:
        p = Path(p).resolve()
        st = p.stat()
        key = str(p)
        hit = self._data.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2]
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
        self._data[key] = [st.st_size, st.st_mtime_ns, digest]
        return digest

    def path_hash(self, p: Path) -> str:
        """A file's sha256, or for a folder a hash over its files' relative names and hashes."""
        p = Path(p)
        if p.is_file():
            return self.file(p)
        if p.is_dir():
            h = hashlib.sha256()
            for f in sorted(x for x in p.rglob("*") if x.is_file()):
                h.update(f.relative_to(p).as_posix().encode() + b"\0" + self.file(f).encode() + b"\n")
            return "dir:" + h.hexdigest()
        raise BastionError(f"input not found: {p}", hint="check the path (or rerun the stage that makes it)")

    def save(self) -> None:
        try:
            write_text(self.path, json.dumps(self._data))
        except OSError as exc:  # a cache; never fatal
            log.debug("could not save hash cache %s: %s", self.path, exc)


@dataclass
class StageResult:
    """What a stage function returns to the CLI or `builder build`."""

    stage: str
    dir: Path
    skipped: bool
    summary: dict = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)

    def path(self, name: str) -> Path:
        return self.dir / name


class Stage:
    """One stage's folder and its meta.json lifecycle: fresh? → begin → finish."""

    def __init__(self, run: "RunDir", name: str) -> None:
        self.run = run
        self.name = name
        self.dir = run.root / name
        self._fingerprint: str | None = None
        self._started: float | None = None
        self._record: dict = {}

    # -- reading -----------------------------------------------------------------
    @property
    def meta_path(self) -> Path:
        return self.dir / META

    def meta(self) -> dict | None:
        try:
            return json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    @property
    def complete(self) -> bool:
        m = self.meta()
        return bool(m and m.get("status") == "complete")

    def fingerprint(self, *, config: Any, inputs: Iterable[Path | str] = ()) -> tuple[str, dict[str, str]]:
        """(fingerprint, {input path: hash}) for this config and these input files/folders."""
        hashes = {str(p): self.run.hashes.path_hash(Path(p)) for p in inputs}
        self.run.hashes.save()
        fp = config_hash({"stage": self.name, "config": config, "inputs": sorted(hashes.values())})
        return fp, hashes

    def is_fresh(self, *, config: Any, inputs: Iterable[Path | str] = ()) -> bool:
        """True when a complete run with this exact config and these inputs is on disk."""
        m = self.meta()
        if not m or m.get("status") != "complete":
            return False
        fp, _ = self.fingerprint(config=config, inputs=inputs)
        if m.get("fingerprint") != fp:
            return False
        return all((self.dir / o["path"]).exists() for o in m.get("outputs", []))

    def result(self, *, skipped: bool = True) -> StageResult:
        m = self.meta() or {}
        return StageResult(self.name, self.dir, skipped, m.get("summary", {}), [o["path"] for o in m.get("outputs", [])])

    # -- writing -----------------------------------------------------------------
    def begin(self, *, config: Any, inputs: Iterable[Path | str] = (), resume: bool = True) -> bool:
        """Mark the stage running. Returns True when an interrupted run's files were kept to resume."""
        inputs = list(inputs)
        fp, hashes = self.fingerprint(config=config, inputs=inputs)
        old = self.meta()
        resuming = bool(resume and old and old.get("status") == "running" and old.get("fingerprint") == fp)
        if not resuming and self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        from builder.versions import tool_versions

        self._fingerprint = fp
        self._started = time.perf_counter()
        self._record = {
            "stage": self.name,
            "status": "running",
            "fingerprint": fp,
            "config": json.loads(_canonical(config)),
            "versions": tool_versions(),
            "inputs": hashes,
            "started": _now(),
            "resumed": resuming,
        }
        write_text(self.meta_path, json.dumps(self._record, indent=2))
        return resuming

    def finish(self, *, outputs: Iterable[str], summary: dict | None = None) -> StageResult:
        """Record outputs (relative to the stage folder) and mark the stage complete, atomically."""
        if self._fingerprint is None:
            raise RuntimeError(f"stage {self.name}: finish() before begin()")
        outs = []
        for rel in outputs:
            p = self.dir / rel
            if not p.exists():
                raise RuntimeError(f"stage {self.name}: declared output {rel} was not written")
            entry: dict[str, Any] = {"path": rel}
            if p.is_file():
                entry["size"] = p.stat().st_size
                entry["sha256"] = self.run.hashes.file(p)
            else:
                entry["sha256"] = self.run.hashes.path_hash(p)
            outs.append(entry)
        self.run.hashes.save()
        rec = dict(self._record, status="complete", outputs=outs, summary=summary or {},
                   finished=_now(), seconds=round(time.perf_counter() - (self._started or 0), 3))
        write_text(self.meta_path, json.dumps(rec, indent=2, default=str))
        return StageResult(self.name, self.dir, False, summary or {}, [o["path"] for o in outs])


class RunDir:
    """A build's folder: `runs/<profile>-<name>/` unless given explicitly."""

    def __init__(self, root: Path, *, profile: str | None = None) -> None:
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.hashes = HashCache(self.root / ".hashes.json")
        info = self.root / "run.json"
        if not info.exists():
            write_text(info, json.dumps({"profile": profile, "created": _now()}, indent=2))
        elif profile:
            have = json.loads(info.read_text(encoding="utf-8")).get("profile")
            if have and have != profile:
                raise BastionError(
                    f"run directory {self.root} belongs to profile {have!r}, not {profile!r}",
                    hint="pick another --run folder, or use the profile it was made with",
                )
        self.profile = profile

    @classmethod
    def for_profile(cls, profile: str, *, run: Path | None = None, name: str = "default") -> "RunDir":
        return cls(Path(run) if run else RUNS_DIR / f"{profile}-{name}", profile=profile)

    def stage(self, name: str) -> Stage:
        return Stage(self, name)

    def require(self, name: str, *, hint: str | None = None) -> StageResult:
        """The completed upstream stage `name`, or a BastionError saying which command to run."""
        st = self.stage(name)
        if not st.complete:
            raise BastionError(
                f"stage {name!r} has not completed in {self.root}",
                hint=hint or f"run `builder {name} --run {self.root}` first",
            )
        return st.result(skipped=True)


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def peak_rss_mb() -> float:
    """Peak resident set size of this process (and waited-for children), in MiB."""
    import resource

    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, kids_kb) / 1024.0


def env_flag(name: str) -> bool:
    """The one reading of yes/no environment variables (`app.flags.env_flag`); other values are errors."""
    from app.flags import env_flag as read

    return read(name)
