"""Which calls are sinks for which weakness, per language: the first check on a model-only finding.

A model finding "CWE-X at line N" is considered only when line N calls a sink of CWE-X's family in
the file's language (`sink_on_line`). Only weaknesses whose sink is a call that untrusted data must
reach are listed: for those an independent dataflow check exists (`model_check`). Weaknesses that are
a construct rather than a flow (a weak hash, a missing cookie flag, integer overflow, use after free)
are absent on purpose: a model finding of that kind has no independent check here and is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.analysis import languages
from app.analysis.cwe import normalise, related


@dataclass(frozen=True)
class SinkFamily:
    cwe: str  # the representative CWE; any CWE `related` to it uses this family
    calls: dict[str, tuple[str, ...]]  # language -> callee names (dotted suffixes, or bare names)


FAMILIES: tuple[SinkFamily, ...] = (
    SinkFamily("CWE-78", {
        "python": ("os.system", "os.popen", "subprocess.call", "subprocess.run", "subprocess.Popen",
                   "subprocess.check_output", "subprocess.check_call", "subprocess.getoutput",
                   "subprocess.getstatusoutput", "commands.getoutput", "os.execl", "os.execlp", "os.execv",
                   "os.execvp", "os.spawnl", "os.spawnlp", "os.spawnv", "os.spawnvp", "pty.spawn"),
        "c": ("system", "popen", "_popen", "execl", "execlp", "execle", "execv", "execvp", "_execl", "_execlp",
              "_wsystem", "_wpopen", "SYSTEM", "POPEN", "EXECL", "EXECLP", "_wexecl", "_wexeclp"),
    }),
    SinkFamily("CWE-89", {"python": ("execute", "executemany", "executescript", "raw", "text", "read_sql")}),
    SinkFamily("CWE-502", {"python": ("pickle.loads", "pickle.load", "cPickle.loads", "marshal.loads", "marshal.load",
                                      "yaml.load", "yaml.unsafe_load", "yaml.load_all", "jsonpickle.decode",
                                      "shelve.open", "dill.loads", "dill.load")}),
    SinkFamily("CWE-94", {"python": ("eval", "exec", "compile")}),
    SinkFamily("CWE-22", {
        "python": ("open", "io.open", "codecs.open", "os.remove", "os.unlink", "os.rmdir", "os.open", "send_file",
                   "send_from_directory", "shutil.copy", "shutil.copyfile", "shutil.rmtree", "os.listdir",
                   "Path", "pathlib.Path", "os.makedirs", "os.mkdir"),
        "c": ("fopen", "open", "_wfopen", "FOPEN", "OPEN", "unlink", "remove"),
    }),
    SinkFamily("CWE-643", {"python": ("xpath", "XPath", "etree.XPath", "find", "findall", "iterfind", "findtext")}),
    SinkFamily("CWE-90", {"python": ("search_s", "search", "search_ext_s", "search_st")}),
    SinkFamily("CWE-611", {"python": ("etree.parse", "etree.fromstring", "etree.XML", "minidom.parseString",
                                      "minidom.parse", "xml.sax.parse", "xml.sax.parseString", "parseString",
                                      "pulldom.parse", "pulldom.parseString")}),
    SinkFamily("CWE-601", {"python": ("redirect",)}),
    SinkFamily("CWE-918", {"python": ("requests.get", "requests.post", "requests.request", "urlopen",
                                      "urllib.request.urlopen", "httpx.get")}),
    SinkFamily("CWE-134", {"c": ("printf", "fprintf", "sprintf", "snprintf", "vprintf", "vfprintf", "vsprintf",
                                 "vsnprintf", "syslog", "wprintf", "fwprintf", "swprintf", "_snprintf", "_snwprintf",
                                 "vwprintf", "vfwprintf", "_vsnprintf")}),
    SinkFamily("CWE-787", {"c": ("memcpy", "memmove", "strcpy", "strncpy", "strcat", "strncat", "wcscpy", "wcsncpy",
                                 "wcscat", "wcsncat", "sprintf", "memset", "wmemset", "wmemcpy")}),
)

_CALLEE = re.compile(r"([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)\s*\(")


def family(cwe: str) -> SinkFamily | None:
    cwe = normalise(cwe)
    return next((f for f in FAMILIES if related(cwe, f.cwe)), None)


def sinks_for(cwe: str, language: str) -> tuple[str, ...]:
    fam = family(cwe)
    return fam.calls.get(languages.sinks_as(language), ()) if fam else ()


def _matches(callee: str, sink: str) -> bool:
    """`callee` (as written, e.g. `cursor.execute`, `pickle.loads`) is `sink` (a dotted suffix or a bare name)."""
    if "." in sink:
        return callee == sink or callee.endswith("." + sink) or callee.split(".")[-1] == sink.split(".")[-1] and \
            callee.split(".")[0] in ("", sink.split(".")[0])
    return callee.split(".")[-1] == sink


def sink_on_line(code: str, line: int, cwe: str, language: str) -> str | None:
    """The callee on `line` (1-based) that is a sink of `cwe`'s family in `language`, or None."""
    lines = code.splitlines()
    if not 1 <= line <= len(lines):
        return None
    names = sinks_for(cwe, language)
    for callee in _CALLEE.findall(lines[line - 1]):
        if any(_matches(callee, s) for s in names):
            return callee
    return None
