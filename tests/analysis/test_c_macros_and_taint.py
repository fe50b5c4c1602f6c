"""C code read through its object-like macros, and the C taint rules on a Juliet-shaped bug and its fixed twin.

Semgrep does not preprocess, so `static.scan` hands it copies with object-like `#define`s expanded
(`app.analysis.macros`). The end-to-end cases run the real analyzer (Semgrep and whatever C engines
are installed) the way `bastion analyze` does.
"""

from __future__ import annotations

from app.analysis.macros import definitions, expand_simple_macros

MACRO_CODE = """#include <stdlib.h>
#define SYSTEM system
#define ARG data
#define NAME "SYSTEM"
#define TWICE 1
#define TWICE 2
#define F(x) ((x) + 1)

void run(char *data) {
    SYSTEM(ARG); /* SYSTEM */
    puts(NAME "SYSTEM");
    int y = F(TWICE);
}
"""


def test_object_like_macros_are_expanded_in_place():
    out = expand_simple_macros(MACRO_CODE)
    lines = out.splitlines()
    assert len(lines) == len(MACRO_CODE.splitlines()), "every line keeps its number"
    assert lines[9].strip().startswith("system(data);")
    assert lines[1] == "#define SYSTEM system", "directive lines stay as written"
    assert '"SYSTEM"' in lines[10], "a macro's name inside a string literal is not replaced"
    assert "F(TWICE)" in lines[11], "function-like macros and ones defined twice (per platform) are left alone"
    assert set(definitions(MACRO_CODE)) == {"SYSTEM", "ARG", "NAME"}


def test_code_without_macros_is_unchanged():
    code = "int main(void) { return 0; }\n"
    assert expand_simple_macros(code) is code


BAD = """#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define FULL_COMMAND "ls "
#define SYSTEM system

void process_input()
{
    char * data;
    char data_buf[100] = FULL_COMMAND;
    data = data_buf;
    {
        size_t dataLen = strlen(data);
        if (100-dataLen > 1)
        {
            if (fgets(data+dataLen, (int)(100-dataLen), stdin) != NULL)
            {
                dataLen = strlen(data);
                if (dataLen > 0 && data[dataLen-1] == '\\n')
                {
                    data[dataLen-1] = '\\0';
                }
            }
        }
    }
    if (SYSTEM(data) != 0)
    {
        exit(1);
    }
}
"""
GOOD = BAD.replace("""            if (fgets(data+dataLen, (int)(100-dataLen), stdin) != NULL)
            {
                dataLen = strlen(data);
                if (dataLen > 0 && data[dataLen-1] == '\\n')
                {
                    data[dataLen-1] = '\\0';
                }
            }""", """            strcat(data, "*.*");""")


def test_command_from_stdin_through_a_macro_is_counted_and_its_fixed_twin_is_not(tmp_path):
    from app.analysis.analyzer import analyze_files

    assert GOOD != BAD
    (tmp_path / "bad.c").write_text(BAD, encoding="utf-8")
    (tmp_path / "good.c").write_text(GOOD, encoding="utf-8")
    reports = {r.filename.rsplit("/", 1)[-1]: r for r in
               analyze_files([tmp_path / "bad.c", tmp_path / "good.c"], use_model=False, language=None)}

    def counted(name: str, cwe: str):
        return [f for f in reports[name].findings if f.counted and f.risk.cwe_id == cwe]

    bad = counted("bad.c", "CWE-78")
    assert bad and bad[0].line == 26, [(f.line, f.risk.cwe_id) for f in reports["bad.c"].findings]
    assert any(e.rule_id == "c-taint-command-injection" for e in bad[0].evidence)
    assert "SYSTEM(data)" in bad[0].evidence[0].snippet, "the snippet is the file's own text, not the expansion"
    assert not counted("good.c", "CWE-78"), "a constant command is a lead at most, never counted"
    leads = [f for f in reports["good.c"].findings if f.risk.cwe_id == "CWE-78"]
    assert all(not f.counted for f in leads)
