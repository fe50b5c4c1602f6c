"""Rule tests in `semgrep --test` style: every `ruleid:`/`ok:` annotation under tests/data/rule_tests holds.

One Semgrep run of the whole rule pack over copies of the annotated files (Semgrep's own ignore
list would skip paths under tests/). An annotation comment applies to the next code line.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app.analysis import semgrep_runner

DATA = Path(__file__).resolve().parent.parent / "data" / "rule_tests"
_ANNOTATION = re.compile(r"(?:#|//|/\*|<!--)\s*(ruleid|ok):\s*([\w.-]+(?:\s*,\s*[\w.-]+)*)")


def annotations(path: Path) -> list[tuple[str, str, int]]:
    """(kind, rule id, line the annotation applies to) for one file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for i, line in enumerate(lines):
        m = _ANNOTATION.search(line)
        if not m:
            continue
        target = i + 1
        while target < len(lines) and (not lines[target].strip() or _ANNOTATION.search(lines[target])):
            target += 1
        for rule in m.group(2).split(","):
            out.append((m.group(1), rule.strip(), target + 1))
    return out


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> tuple[dict[Path, Path], dict[str, set[tuple[str, int]]]]:
    files = sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix != ".md")
    tmp = tmp_path_factory.mktemp("rule-tests")
    copies = {}
    for i, f in enumerate(files):
        dst = tmp / f"t{i}_{f.name}"
        shutil.copy(f, dst)
        copies[f] = dst
    hits = semgrep_runner.run([str(tmp)])[0]  # (hits, notes, ...)
    found: dict[str, set[tuple[str, int]]] = {}
    for h in hits:
        found.setdefault(str(Path(h.path).resolve()), set()).add((h.rule_id, h.line))
    return copies, found


def test_every_rule_test_file_has_both_kinds():
    files = [p for p in DATA.rglob("*") if p.is_file() and p.suffix != ".md"]
    assert files
    for f in files:
        kinds = {k for k, _r, _l in annotations(f)}
        assert kinds == {"ruleid", "ok"}, f"{f.name} needs at least one ruleid: and one ok: case"


def test_annotations_hold(scanned):
    copies, found = scanned
    problems = []
    for src, dst in copies.items():
        got = found.get(str(dst.resolve()), set())
        for kind, rule, line in annotations(src):
            hit = (rule, line) in got
            if kind == "ruleid" and not hit:
                problems.append(f"{src.relative_to(DATA)}:{line}: {rule} missed")
            if kind == "ok" and hit:
                problems.append(f"{src.relative_to(DATA)}:{line}: {rule} reported on a safe look-alike")
    assert not problems, "\n".join(problems)


def test_readme_lists_every_rule():
    """app/analysis/rules/README.md has a row for every rule (the failure message gives the rows to paste)."""
    import yaml

    rules_dir = semgrep_runner.RULES_DIR
    readme = (rules_dir / "README.md").read_text(encoding="utf-8")
    missing = []
    for f in sorted(rules_dir.rglob("*.yaml")):
        for r in yaml.safe_load(f.read_text(encoding="utf-8"))["rules"]:
            if f"`{r['id']}`" not in readme:
                m = r.get("metadata", {})
                mode = "taint" if r.get("mode") == "taint" else "pattern"
                missing.append(f"| {f.relative_to(rules_dir)} | `{r['id']}` | {m.get('cwe')} | {m.get('label')} | "
                               f"{', '.join(r['languages'])} | {mode} |")
    assert not missing, "add to app/analysis/rules/README.md:\n" + "\n".join(missing)
