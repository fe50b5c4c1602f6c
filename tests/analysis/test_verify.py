"""Fix verification with real rule runs: a fix that re-triggers its rule or does not parse is flagged."""

from __future__ import annotations

import pytest

from app.analysis import analyze_code
from app.analysis.model_layer import splice
from app.analysis.models import Fix
from app.analysis.verify import verify

pytestmark = pytest.mark.slow

VULN = '''import subprocess

def archive(name):
    subprocess.call("tar czf /srv/backup/out.tgz " + name, shell=True)
'''


@pytest.fixture(scope="module")
def report():
    return analyze_code(VULN, use_model=False)


def _with_fix(report, new_line: str):
    f = report.findings[0].model_copy(deep=True)
    f.fix = Fix(hint=f.fix.hint, code=splice(report.code, f.line, f.line, new_line), author="model")
    return f


TS = """import { execSync } from 'node:child_process';

export function clone(url: string): void {
  execSync(`git clone ${url} /srv/repo`);
}
"""


def test_fixes_are_judged_in_one_batch(report):
    assert report.top_cwe == "CWE-78"
    good = _with_fix(report, 'subprocess.call(["tar", "czf", "/srv/backup/out.tgz", name])')
    still = _with_fix(report, 'subprocess.call("tar czf /srv/backup/out.tgz " + name + " ", shell=True)')
    broken = _with_fix(report, 'subprocess.call(["tar", "czf", name')
    deleted = _with_fix(report, 'pass')
    ts = analyze_code(TS, language="typescript", use_model=False)
    ts_fix = ts.findings[0].model_copy(deep=True)
    ts_fix.fix = Fix(code=splice(TS, ts_fix.line, ts_fix.line, "10"), author="model")  # what SmolLM2 once wrote
    ts_good = ts.findings[0].model_copy(deep=True)
    ts_good.fix = Fix(code=splice(TS, ts_good.line, ts_good.line, "execFileSync('git', ['clone', url, '/srv/repo']);"),
                      author="model")
    verify([(report.code, "python", None, report.findings, f) for f in (good, still, broken, deleted)]
           + [(TS, "typescript", None, ts.findings, f) for f in (ts_fix, ts_good)])

    assert not ts_fix.fix.verified  # execSync still appears in the import line: the check looks at the patch itself
    assert any("removes the flagged call" in n for n in ts_fix.fix.notes), ts_fix.fix.notes
    assert not ts_good.fix.verified  # rule no longer fires, but no TypeScript parser here: never "verified"
    assert any("syntax not checked" in n for n in ts_good.fix.notes) and any("no longer fire" not in n for n in ts_good.fix.notes)

    assert good.fix.verified, good.fix.notes
    assert "+    subprocess.call([\"tar\"" in good.fix.diff

    assert not still.fix.verified
    assert any("still triggers py-os-command-from-string" in n for n in still.fix.notes), still.fix.notes

    assert not broken.fix.verified
    assert any("does not parse" in n for n in broken.fix.notes), broken.fix.notes

    assert not deleted.fix.verified
    assert any("removes the flagged call" in n for n in deleted.fix.notes), deleted.fix.notes


def test_static_only_report_has_hint_but_no_patch(report):
    f = report.findings[0]
    assert f.fix.code is None and not f.fix.verified
    assert f.fix.hint and f.fix.notes == ["no patch proposed; see the hint"]


def test_splice_keeps_indentation():
    code = "def f():\n    a = 1\n    b = 2\n"
    assert splice(code, 2, 2, "a = 3") == "def f():\n    a = 3\n    b = 2\n"


def test_rule_fix_is_applied_and_verified_in_static_only_mode():
    rep = analyze_code("import yaml\n\ndef load(blob):\n    return yaml.load(blob)\n", use_model=False)
    f = rep.findings[0]
    assert f.risk.cwe_id == "CWE-502" and f.fix.author == "rule"
    assert "yaml.safe_load(blob)" in f.fix.code and f.fix.verified, f.fix.notes
    assert "+    return yaml.safe_load(blob)" in f.fix.diff


@pytest.mark.parametrize("lang,good,bad", [
    ("python", "x = 1\n", "x = (\n"),
    ("bash", "echo hi\n", "if then fi\n"),
    ("javascript", "const a = 1;\n", "const = ;\n"),
    ("java", "import javax.nope.Missing;\nclass A extends Missing { void f() { g(); } }\n", "class A { void f() { int x = ; } }\n"),
    ("c", "int main(void) { return 0; }\n", "int main(void) { return 0 }\n"),
])
def test_syntax_checkers(lang, good, bad):
    from app.analysis.syntax import check

    ok, ko = check(good, lang), check(bad, lang)
    if ok.ok is None:
        pytest.skip(f"no {lang} checker on this machine: {ok.message}")
    assert ok.ok is True, ok.message
    assert ko.ok is False and ko.message


PATH_VULN = '''from flask import request
import pathlib

def show():
    name = request.args.get("name")
    p = pathlib.Path("/srv/files") / name
    return p.read_text()
'''
XSS_VULN = '''from flask import request

def greet():
    name = request.args.get("name")
    page = "<h1>Hello " + name + "</h1>"
    return page
'''


def test_a_patch_that_deletes_the_sink_is_not_verified():
    """Shapes SmolLM2 wrote on the OWASP Benchmark and the old check marked VERIFIED: they parse and no rule fires."""
    items = []
    for code, new_line in ((PATH_VULN, "10"), (XSS_VULN, "f-defensive"), (XSS_VULN, "failsafe")):
        rep = analyze_code(code, use_model=False)
        f = rep.findings[0].model_copy(deep=True)
        f.fix = Fix(code=splice(code, f.line, f.line, new_line), author="model")
        items.append((code, "python", None, rep.findings, f))
    verify(items)
    for _code, _lang, _name, _all, f in items:
        assert not f.fix.verified and f.fix.state == "proposed", f.fix.notes
        assert any("nothing defines" in n for n in f.fix.notes), f.fix.notes
        assert any("no effect" in n for n in f.fix.notes), f.fix.notes


def test_patch_sanity_checks_returns_and_no_ops_in_other_languages():
    from app.analysis.patch_sanity import problems

    js = "function f(u) {\n  return render(u);\n}\n"
    assert "the patch drops a return statement" in problems(js, js.replace("return render(u);", "render(u);"),
                                                              "javascript", "  return render(u);", "  render(u);")
    assert any("no effect" in p for p in problems(js, js.replace("return render(u);", "failsafe"), "javascript",
                                                   "  return render(u);", "  failsafe"))
    good = "  return render(escapeHtml(u));"
    assert problems(js, js.replace("  return render(u);", good), "javascript", "  return render(u);", good) == []
    py = "def f(x):\n    y = g(x)\n    return y\n"
    assert problems(py, py.replace("g(x)", "g(quote(x))").replace("def f", "from shlex import quote\ndef f"),
                    "python", "    y = g(x)", "    y = g(quote(x))") == []
