"""Build the wrong-but-plausible sentence set from the WSTG corpus (deterministic).

    .venv/bin/python bench/build_wrong_sentences.py      (writes bench/data/wstg_wrong_sentences.jsonl)

Each row takes one sentence of a corpus paragraph and changes one fact: a number
(`number`), an algorithm / header / attribute / method name for a confusable one
(`swap`), or its polarity (`negation`: "should" -> "should not", "not" dropped).
The corpus text itself is not stored: a row names the file and the paragraph's
first line, and `eval_answers.py entail` re-reads the paragraph as the source.
Split like the questions: sha1(id) odd -> test.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.eval_answers import CORPUS, split_of  # noqa: E402

OUT = ROOT / "bench/data/wstg_wrong_sentences.jsonl"
PER_KIND = 70

SWAPS = {
    "MD5": "SHA-256", "SHA-1": "SHA-256", "SHA1": "SHA256", "SHA-256": "MD5", "AES": "DES", "DES": "AES",
    "RSA": "DSA", "ECB": "CBC", "CBC": "ECB", "GCM": "ECB", "bcrypt": "MD5", "PBKDF2": "MD5", "Argon2": "SHA-1",
    "HttpOnly": "Secure", "Secure": "HttpOnly", "SameSite": "HttpOnly", "Strict": "Lax", "Lax": "Strict",
    "GET": "POST", "POST": "GET", "PUT": "TRACE", "TRACE": "OPTIONS", "OPTIONS": "TRACE", "DELETE": "PATCH",
    "X-Frame-Options": "X-XSS-Protection", "Content-Security-Policy": "Strict-Transport-Security",
    "Strict-Transport-Security": "Content-Security-Policy", "frame-ancestors": "script-src", "Referer": "Origin",
    "Origin": "Referer", "Host": "Referer", "X-Forwarded-For": "X-Forwarded-Host", "Set-Cookie": "Cookie",
    "HTTPS": "HTTP", "TLS": "SSH", "SSL": "SSH", "XML": "JSON", "JSON": "XML", "LDAP": "SQL", "SQL": "LDAP",
    "JavaScript": "CSS", "HTML": "CSS", "iframe": "script", "cookie": "header", "cookies": "headers",
    "server": "client", "client": "server", "encrypted": "encoded", "encryption": "encoding", "hash": "encrypt",
    "session": "request", "username": "password", "password": "username", "administrator": "guest",
    "authentication": "authorization", "authorization": "authentication", "private": "public", "public": "private",
    "symmetric": "asymmetric", "asymmetric": "symmetric", "upload": "download", "download": "upload",
    "before": "after", "after": "before", "read": "write", "internal": "external", "stored": "reflected",
    "reflected": "stored", "GraphQL": "SOAP", "SOAP": "REST", "JWT": "SAML", "SAML": "JWT", "OAuth": "SAML",
    "CORS": "CSP", "CSRF": "SSRF", "SSRF": "CSRF", "XSS": "CSRF",
}
_NEG_IN = re.compile(r"\b(should|must|can|will|is|are|does|do)\b(?! not)")
_NEG_OUT = re.compile(r"\b(should|must|can|will|is|are|does|do) not\b")
_NUM = re.compile(r"(?<![\w.-])(\d{1,6})(?![\w.-])")
_SENT = re.compile(r"(?<=[.!?])\s+")


def paragraphs(path: Path):
    """(first line number, text) of each prose paragraph."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    start, buf = 0, []
    for k, line in enumerate(lines + [""], 1):
        if line.strip() and not line.lstrip().startswith(("#", "|", "```", "!", "<")):
            if not buf:
                start = k
            buf.append(line.strip())
        elif buf:
            yield start, " ".join(buf)
            buf = []


def perturb(sentence: str, kind: str, salt: int) -> str | None:
    if kind == "number":
        nums = [m for m in _NUM.finditer(sentence) if m.group(1) not in {"0"}]
        if not nums:
            return None
        m = nums[salt % len(nums)]
        n = int(m.group(1))
        new = str(n * 2 if n > 2 else n + 3)
        return sentence[:m.start()] + new + sentence[m.end():]
    if kind == "swap":
        found = [(m, SWAPS[m.group(0)]) for w in SWAPS for m in re.finditer(rf"(?<![\w-]){re.escape(w)}(?![\w-])", sentence)]
        if not found:
            return None
        m, rep = sorted(found, key=lambda t: t[0].start())[salt % len(found)]
        out = sentence[:m.start()] + rep + sentence[m.end():]
        return out if rep not in sentence else None  # the substitute already in the sentence is no clean swap
    if kind == "negation":
        if _NEG_OUT.search(sentence):
            return _NEG_OUT.sub(lambda m: m.group(1), sentence, count=1)
        if _NEG_IN.search(sentence):
            return _NEG_IN.sub(lambda m: f"{m.group(1)} not", sentence, count=1)
    return None


def main() -> int:
    files = sorted(p for p in CORPUS.rglob("*.md") if p.name != "README.md")
    rows: dict[str, list[dict]] = {"number": [], "swap": [], "negation": []}
    for f in files:
        rel = f.relative_to(CORPUS).as_posix()
        for line, para in paragraphs(f):
            sents = [s for s in _SENT.split(para) if 8 <= len(s.split()) <= 40 and "http" not in s and "`" not in s]
            for j, s in enumerate(sents):
                h = int(hashlib.sha1(f"{rel}:{line}:{j}".encode()).hexdigest(), 16)
                for kind in rows:
                    if len(rows[kind]) >= PER_KIND * 6 or h % 7:  # a thin, even sample of the corpus
                        continue
                    wrong = perturb(s, kind, h)
                    if wrong and wrong != s:
                        rid = f"{kind}-{hashlib.sha1(wrong.encode()).hexdigest()[:10]}"
                        rows[kind].append({"id": rid, "kind": kind, "file": rel, "line": line, "sentence_index": j,
                                           "original_sha1": hashlib.sha1(s.encode()).hexdigest(), "wrong": wrong})
                        break
    out = []
    for kind, rs in rows.items():  # spread over the corpus: every k-th candidate
        step = max(1, len(rs) // PER_KIND)
        out.extend(rs[::step][:PER_KIND])
    for r in out:
        r["split"] = split_of(r["id"])
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out), encoding="utf-8")
    tmp.replace(OUT)
    print(f"{len(out)} rows -> {OUT} ({ {k: sum(r['kind'] == k for r in out) for k in rows} })")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
