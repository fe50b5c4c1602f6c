"""The optional engines (cppcheck, clang, flawfinder, ShellCheck): each finds a known bug in a tiny
snippet and stays quiet on its fixed twin; each is skipped with a reason when not installed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.analysis import engines

UAF = """#include <stdlib.h>
int f(void) {
    int *p = malloc(sizeof(int));
    if (p == NULL) return 0;
    *p = 1;
    free(p);
    return *p;
}
"""
UAF_FIXED = UAF.replace("    free(p);\n    return *p;", "    int v = *p;\n    free(p);\n    return v;")

NULL_DEREF = """#include <stddef.h>
int g(void) {
    int *p = NULL;
    return *p;
}
"""
NULL_FIXED = NULL_DEREF.replace("int *p = NULL;", "int x = 3;\n    int *p = &x;")

GETS = """#include <stdio.h>
void h(void) {
    char buf[16];
    gets(buf);
    puts(buf);
}
"""
GETS_FIXED = GETS.replace("gets(buf);", "if (fgets(buf, sizeof buf, stdin) == NULL) return;")

RM = """#!/bin/bash
dir=$1
rm -rf "$dir/"
"""
RM_FIXED = RM.replace('rm -rf "$dir/"', 'rm -rf "${dir:?}/"')


def _need(name: str) -> str:
    st = engines.status(name)
    if not st.ok:
        pytest.skip(f"{name} is {st.reason}")
    return st.path


def _run(name: str, runner, tmp_path, code: str, suffix: str):
    exe = _need(name)
    p = tmp_path / f"snippet{suffix}"
    p.write_text(code)
    hits, notes, errors = runner(exe, [str(p)], include_dirs={}, timeout=120)
    assert not errors, errors
    return hits, notes


@pytest.mark.parametrize("code,fixed,cwe", [(UAF, UAF_FIXED, "CWE-416"), (NULL_DEREF, NULL_FIXED, "CWE-476")])
def test_clang_finds_bug_and_not_in_fixed_twin(tmp_path, code, fixed, cwe):
    from app.analysis import clang_runner

    hits, _ = _run("clang", clang_runner.run, tmp_path, code, ".c")
    assert any(h.cwe == cwe and h.engine == "clang" for h in hits), hits
    hits, notes = _run("clang", clang_runner.run, tmp_path, fixed, ".c")
    assert not [h for h in hits if h.cwe == cwe], hits
    assert not notes, notes  # it compiled, so silence means the analyzer ran and found nothing


def test_clang_parses_a_file_without_its_project_header(tmp_path):
    """A quoted #include that is not there is stubbed and libc headers are pre-included."""
    from app.analysis import clang_runner

    hits, notes = _run("clang", clang_runner.run, tmp_path, '#include "project.h"\n' + NULL_DEREF.split("\n", 1)[1], ".c")
    assert not notes, notes
    assert any(h.cwe == "CWE-476" for h in hits)


def test_clang_reports_code_it_cannot_compile(tmp_path):
    from app.analysis import clang_runner

    hits, notes = _run("clang", clang_runner.run, tmp_path, "int f(void) { return undefined_thing->x; }\n", ".c")
    assert not hits
    assert notes and "could not compile" in notes[str(tmp_path / "snippet.c")][0]


@pytest.mark.parametrize("code,fixed,cwe", [(NULL_DEREF, NULL_FIXED, "CWE-476"), (GETS, GETS_FIXED, "CWE-242")])
def test_cppcheck_finds_bug_and_not_in_fixed_twin(tmp_path, code, fixed, cwe):
    from app.analysis import cppcheck_runner

    hits, _ = _run("cppcheck", cppcheck_runner.run, tmp_path, code, ".c")
    assert any(h.cwe == cwe and h.engine == "cppcheck" for h in hits), hits
    hits, _ = _run("cppcheck", cppcheck_runner.run, tmp_path, fixed, ".c")
    assert not [h for h in hits if h.cwe == cwe], hits


def test_flawfinder_only_keeps_inherently_unsafe_calls(tmp_path):
    from app.analysis import flawfinder_runner

    hits, _ = _run("flawfinder", flawfinder_runner.run, tmp_path, GETS, ".c")
    assert [(h.cwe, h.line) for h in hits] == [("CWE-242", 4)]
    hits, _ = _run("flawfinder", flawfinder_runner.run, tmp_path, GETS_FIXED, ".c")
    assert hits == []  # flawfinder itself flags fgets/puts; those are not kept


def test_shellcheck_finds_unguarded_rm_and_not_the_guarded_one(tmp_path):
    from app.analysis import shellcheck_runner

    hits, _ = _run("shellcheck", shellcheck_runner.run, tmp_path, RM, ".sh")
    assert any(h.rule_id == "SC2115" and h.confidence >= 0.5 for h in hits), hits
    hits, _ = _run("shellcheck", shellcheck_runner.run, tmp_path, RM_FIXED, ".sh")
    assert not [h for h in hits if h.rule_id == "SC2115"]


def test_engine_findings_reach_the_report_with_evidence():
    _need("clang")
    from app.analysis import analyze_code

    rep = analyze_code(UAF, filename="uaf.c", use_model=False)
    assert "clang" in rep.engines_ran
    ev = [(e.engine, e.rule_id, e.line) for f in rep.findings for e in f.evidence if e.engine == "clang"]
    assert ("clang", "unix.Malloc", 7) in ev, ev


def test_missing_engine_is_skipped_with_a_reason(monkeypatch):
    real = next(s for s in engines.SPECS if s.name == "cppcheck")
    fake = replace(real, binaries=("no-such-engine-binary",))
    assert fake.languages == ("c", "cpp")
    monkeypatch.setattr(engines, "SPECS", (fake,))
    monkeypatch.setattr(engines, "_STATUS", {})
    res = engines.run({"/nonexistent/x.c": "c"})
    assert res.hits == [] and "cppcheck" not in res.ran
    assert "not installed" in res.skipped["cppcheck"] and "apt-get install cppcheck" in res.skipped["cppcheck"]


def test_doctor_lists_every_engine():
    from app.doctor import analysis_engines

    check = analysis_engines()
    assert set(check.data) == {"cppcheck", "clang", "flawfinder", "shellcheck"}
    for name, info in check.data.items():
        assert info["path"] or info["reason"], name  # found, or says why not
        assert name in check.detail
