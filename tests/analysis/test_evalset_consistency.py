"""Consistency checks for the secure-code analysis evaluation set (tests/data/analysis_eval).

The set is data the analysis harness tunes and reports against, so these tests guard its shape:
every case has a file, ids are unique, every vulnerable case has a safe look-alike and vice versa,
labels and CWEs are well formed, languages and labels are spread, and snippets parse.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

EVAL_DIR = Path(__file__).resolve().parents[1] / "data" / "analysis_eval"
CASES_FILE = EVAL_DIR / "cases.jsonl"

EXTENSIONS = {
    "python": {".py"},
    "javascript": {".js"},
    "typescript": {".ts"},
    "php": {".php"},
    "java": {".java"},
    "c": {".c"},
    "cpp": {".cpp", ".cc"},
    "bash": {".sh"},
    "go": {".go"},
}
REQUIRED_KEYS = {"id", "lang", "file", "vulnerable", "cwe", "pair", "note"}
CWE_RE = re.compile(r"^CWE-\d{1,4}$")
ID_RE = re.compile(r"^[a-z]+-[a-z0-9]+-\d{2}-(vuln|safe)$")
# Words that would hand the label to a reader (or a model) if they appeared in a comment.
GIVEAWAY_RE = re.compile(
    r"\b(vulnerab\w*|insecure|unsafe|safe|saniti[sz]\w*|inject\w*|exploit\w*|attack\w*|"
    r"cwe|xss|ssrf|xxe|csrf|traversal|dangerous)\b",
    re.IGNORECASE,
)
COMMENT_START = ("#", "//", "/*", "*", "--", "<!--")
KNOWN_TAGS = {
    "injection-comment", "aliased-sink", "one-token-difference", "constant-input",
    "restricted-sink", "non-security-use", "framework-escaping",
}


def _load_cases() -> list[dict]:
    cases = []
    for lineno, line in enumerate(CASES_FILE.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(json.loads(line))
        except json.JSONDecodeError as exc:  # pragma: no cover - reported by the assert below
            pytest.fail(f"{CASES_FILE}:{lineno}: not valid JSON ({exc})")
    return cases


CASES = _load_cases()
BY_ID = {c["id"]: c for c in CASES}


def test_every_case_has_the_required_fields_and_types():
    for case in CASES:
        missing = REQUIRED_KEYS - case.keys()
        assert not missing, f"{case.get('id')}: missing keys {sorted(missing)}"
        assert isinstance(case["vulnerable"], bool), case["id"]
        assert case["lang"] in EXTENSIONS, f"{case['id']}: unknown lang {case['lang']!r}"
        assert ID_RE.match(case["id"]), f"{case['id']}: id should look like py-sqli-01-vuln"
        assert case["note"].strip(), f"{case['id']}: empty note"
        tags = case.get("tags", [])
        assert isinstance(tags, list) and set(tags) <= KNOWN_TAGS, f"{case['id']}: tags {tags}"


def test_ids_are_unique():
    counts = Counter(c["id"] for c in CASES)
    dupes = [i for i, n in counts.items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"


def test_every_case_file_exists_and_matches_its_id_and_language():
    for case in CASES:
        path = EVAL_DIR / case["file"]
        assert path.is_file(), f"{case['id']}: missing file {path}"
        assert path.stem == case["id"], f"{case['id']}: file name {path.name} differs from id"
        assert path.suffix in EXTENSIONS[case["lang"]], f"{case['id']}: extension {path.suffix}"
        assert path.resolve().is_relative_to(EVAL_DIR), f"{case['id']}: file outside the set"


def test_no_orphan_snippet_files():
    listed = {(EVAL_DIR / c["file"]).resolve() for c in CASES}
    on_disk = {
        p.resolve() for p in EVAL_DIR.rglob("*")
        if p.is_file() and p.name not in {CASES_FILE.name, "README.md"} and "__pycache__" not in p.parts
    }
    assert not (on_disk - listed), f"files not in cases.jsonl: {sorted(on_disk - listed)}"


def test_pairs_point_to_existing_cases_of_the_opposite_label():
    for case in CASES:
        other = BY_ID.get(case["pair"])
        assert other is not None, f"{case['id']}: pair {case['pair']} does not exist"
        assert other["pair"] == case["id"], f"{case['id']}: pair is not mutual"
        assert other["vulnerable"] != case["vulnerable"], f"{case['id']}: pair has the same label"
        assert other["lang"] == case["lang"], f"{case['id']}: pair is in another language"


def test_labels_and_cwes_are_well_formed():
    for case in CASES:
        if case["vulnerable"]:
            assert case["cwe"] and CWE_RE.match(case["cwe"]), f"{case['id']}: bad cwe {case['cwe']!r}"
        else:
            assert case["cwe"] is None, f"{case['id']}: a safe case carries cwe=null"
            resembles = case.get("resembles")
            assert resembles is None or CWE_RE.match(resembles), f"{case['id']}: bad resembles"
            assert resembles == BY_ID[case["pair"]]["cwe"], f"{case['id']}: resembles != pair's cwe"


def test_size_language_spread_and_balance():
    assert len(CASES) >= 150
    per_lang = Counter(c["lang"] for c in CASES)
    assert len(per_lang) >= 6, per_lang
    for lang in per_lang:
        labels = {c["vulnerable"] for c in CASES if c["lang"] == lang}
        assert labels == {True, False}, f"{lang}: needs both vulnerable and safe cases"
    share = sum(c["vulnerable"] for c in CASES) / len(CASES)
    assert 0.4 <= share <= 0.6, f"vulnerable share {share:.2f} is not roughly balanced"
    assert len({c["cwe"] for c in CASES if c["vulnerable"]}) >= 15


def test_snippets_are_small_functions():
    for case in CASES:
        lines = (EVAL_DIR / case["file"]).read_text(encoding="utf-8").splitlines()
        assert 4 <= len(lines) <= 45, f"{case['id']}: {len(lines)} lines (want about 5-40)"


def test_comments_do_not_give_the_label_away():
    for case in CASES:
        text = (EVAL_DIR / case["file"]).read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if stripped.startswith("#!") or not stripped.startswith(COMMENT_START):
                continue
            hit = GIVEAWAY_RE.search(stripped)
            assert hit is None, f"{case['file']}:{n}: comment says {hit.group(0)!r}"


def _files(lang: str) -> list[Path]:
    return [EVAL_DIR / c["file"] for c in CASES if c["lang"] == lang]


def test_python_snippets_parse():
    for path in _files("python"):
        try:
            ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as exc:
            pytest.fail(f"{path}: {exc}")


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_shell_snippets_parse():
    for path in _files("bash"):
        proc = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, f"{path}: {proc.stderr}"


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_javascript_snippets_parse():
    files = _files("javascript")
    # One node process checks every file: node --check only takes one, so compile in-process.
    script = (
        "const fs=require('fs'),vm=require('vm');let bad=[];"
        "for(const f of process.argv.slice(1)){try{new vm.Script(fs.readFileSync(f,'utf8'),"
        "{filename:f})}catch(e){bad.push(f+': '+e.message)}}"
        "if(bad.length){console.error(bad.join('\\n'));process.exit(1)}"
    )
    proc = subprocess.run(["node", "-e", script, *map(str, files)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
