"""Bad input gets a clear answer (BastionError or a report saying so), never a traceback."""

from __future__ import annotations

import pytest

from app.analysis import analyze_code, analyze_path
from app.analysis.languages import detect
from app.errors import BastionError


def test_empty_input_is_refused():
    with pytest.raises(BastionError, match="empty"):
        analyze_code("   \n\t", use_model=False)


def test_binary_input_is_refused():
    with pytest.raises(BastionError, match="binary"):
        analyze_code("MZ\x00\x00\x90\x00\x03binary", use_model=False)


def test_binary_file_is_refused(tmp_path):
    f = tmp_path / "tool.py"
    f.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(BastionError, match="binary"):
        analyze_path(f, use_model=False)


def test_twenty_megabyte_file_is_refused_quickly(tmp_path):
    big = tmp_path / "huge.py"
    big.write_text("x = 1\n" * 3_500_000)  # ~21 MB
    with pytest.raises(BastionError, match=r"MB; the analysis limit"):
        analyze_path(big, use_model=False)
    with pytest.raises(BastionError, match="limit"):
        analyze_code(big.read_text(), use_model=False)


def test_unknown_language_asks_for_lang():
    with pytest.raises(BastionError, match="cannot tell which language") as exc:
        analyze_code("lorem ipsum dolor sit amet\n", use_model=False)
    assert "--lang" in str(exc.value)


def test_unsupported_language_override_lists_choices():
    with pytest.raises(BastionError, match="unsupported language 'cobol'") as exc:
        analyze_code("DISPLAY 'HI'.", language="cobol", use_model=False)
    assert "python" in str(exc.value)


def test_unknown_suffix_file_is_unsupported_not_safe(tmp_path):
    f = tmp_path / "notes.xyz"
    f.write_text("just some words here\n")
    [rep] = analyze_path(f, use_model=False)
    assert rep.status == "unsupported" and rep.label is None and "--lang" in rep.notes[0]


def test_missing_path_is_refused(tmp_path):
    with pytest.raises(BastionError, match="no such file"):
        analyze_path(tmp_path / "nope.py", use_model=False)


@pytest.mark.slow
def test_syntax_error_file_gets_a_report_that_says_so(tmp_path):
    f = tmp_path / "broken.py"
    f.write_text("import os\ndef run(cmd:\n    os.system(cmd)\n")
    [rep] = analyze_path(f, use_model=False)
    assert any("does not parse" in n for n in rep.notes), rep.notes
    if rep.status == "analysed":  # an engine still found the call: its label stands
        assert rep.label not in (None, "safe") and rep.findings
    else:  # nothing found in code no engine could read in full: never SAFE (red-team round, issue 29)
        assert rep.status == "error" and rep.label is None and rep.safe_reason is None
        assert any("no SAFE verdict" in e for e in rep.errors), rep.errors
    g = tmp_path / "mixed.py"  # does not parse, but the sink is still found: the finding is kept
    g.write_text("import os\ndef f():\n\tif 1:\n        os.system(input())\n")
    [rep] = analyze_path(g, use_model=False)
    assert rep.status == "analysed" and rep.label not in (None, "safe"), (rep.status, rep.label, rep.errors)


@pytest.mark.parametrize("code,name,lang", [
    ("#!/usr/bin/env bash\necho hi\n", None, "bash"),
    ("<?php echo 1;", None, "php"),
    ("package main\n\nfunc main() {}\n", None, "go"),
    ("import os\n\ndef f():\n    return os.getcwd()\n", None, "python"),
    ("#include <stdio.h>\nint main(void) { printf(\"x\"); return 0; }\n", None, "c"),
    ("public class A { public static void main(String[] a) { System.out.println(1); } }", None, "java"),
    ("x", "a.tsx", "typescript"),
    ("x", "a.hpp", "cpp"),
])
def test_language_detection(code, name, lang):
    assert detect(code, filename=name) == lang


def test_utf8_bom_is_not_code(tmp_path):
    """Python accepts a BOM-prefixed file; the analyzer's parse check refused it (red-team round, issue 29)."""
    f = tmp_path / "bom.py"
    f.write_bytes(b"\xef\xbb\xbfimport os\nos.system(input())\n")
    [rep] = analyze_path(f, use_model=False)
    assert rep.status == "analysed" and rep.parse_error is None and not any("does not parse" in n for n in rep.notes)
    assert rep.findings and rep.findings[0].line == 2
