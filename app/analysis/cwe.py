"""CWE names for the weaknesses the rule pack and Bandit report, and related-CWE families."""

from __future__ import annotations

import re

NAMES: dict[str, str] = {
    "CWE-20": "Improper Input Validation",
    "CWE-22": "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')",
    "CWE-73": "External Control of File Name or Path",
    "CWE-77": "Improper Neutralization of Special Elements used in a Command ('Command Injection')",
    "CWE-78": "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')",
    "CWE-79": "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
    "CWE-88": "Improper Neutralization of Argument Delimiters in a Command ('Argument Injection')",
    "CWE-89": "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')",
    "CWE-90": "Improper Neutralization of Special Elements used in an LDAP Query ('LDAP Injection')",
    "CWE-94": "Improper Control of Generation of Code ('Code Injection')",
    "CWE-95": "Improper Neutralization of Directives in Dynamically Evaluated Code ('Eval Injection')",
    "CWE-98": "Improper Control of Filename for Include/Require Statement in PHP Program ('PHP Remote File Inclusion')",
    "CWE-117": "Improper Output Neutralization for Logs",
    "CWE-120": "Buffer Copy without Checking Size of Input ('Classic Buffer Overflow')",
    "CWE-121": "Stack-based Buffer Overflow",
    "CWE-134": "Use of Externally-Controlled Format String",
    "CWE-190": "Integer Overflow or Wraparound",
    "CWE-200": "Exposure of Sensitive Information to an Unauthorized Actor",
    "CWE-242": "Use of Inherently Dangerous Function",
    "CWE-259": "Use of Hard-coded Password",
    "CWE-295": "Improper Certificate Validation",
    "CWE-327": "Use of a Broken or Risky Cryptographic Algorithm",
    "CWE-328": "Use of Weak Hash",
    "CWE-330": "Use of Insufficiently Random Values",
    "CWE-338": "Use of Cryptographically Weak Pseudo-Random Number Generator (PRNG)",
    "CWE-347": "Improper Verification of Cryptographic Signature",
    "CWE-352": "Cross-Site Request Forgery (CSRF)",
    "CWE-377": "Insecure Temporary File",
    "CWE-400": "Uncontrolled Resource Consumption",
    "CWE-494": "Download of Code Without Integrity Check",
    "CWE-502": "Deserialization of Untrusted Data",
    "CWE-601": "URL Redirection to Untrusted Site ('Open Redirect')",
    "CWE-605": "Multiple Binds to the Same Port",
    "CWE-611": "Improper Restriction of XML External Entity Reference",
    "CWE-643": "Improper Neutralization of Data within XPath Expressions ('XPath Injection')",
    "CWE-676": "Use of Potentially Dangerous Function",
    "CWE-703": "Improper Check or Handling of Exceptional Conditions",
    "CWE-732": "Incorrect Permission Assignment for Critical Resource",
    "CWE-776": "Improper Restriction of Recursive Entity References in DTDs ('XML Entity Expansion')",
    "CWE-787": "Out-of-bounds Write",
    "CWE-798": "Use of Hard-coded Credentials",
    "CWE-916": "Use of Password Hash With Insufficient Computational Effort",
    "CWE-917": "Improper Neutralization of Special Elements used in an Expression Language Statement ('Expression Language Injection')",
    "CWE-918": "Server-Side Request Forgery (SSRF)",
    "CWE-1004": "Sensitive Cookie Without 'HttpOnly' Flag",
    "CWE-614": "Sensitive Cookie in HTTPS Session Without 'Secure' Attribute",
    "CWE-501": "Trust Boundary Violation",
    "CWE-759": "Use of a One-Way Hash without a Salt",
    "CWE-760": "Use of a One-Way Hash with a Predictable Salt",
    "CWE-122": "Heap-based Buffer Overflow",
    "CWE-124": "Buffer Underwrite ('Buffer Underflow')",
    "CWE-125": "Out-of-bounds Read",
    "CWE-126": "Buffer Over-read",
    "CWE-131": "Incorrect Calculation of Buffer Size",
    "CWE-170": "Improper Null Termination",
    "CWE-252": "Unchecked Return Value",
    "CWE-369": "Divide By Zero",
    "CWE-401": "Missing Release of Memory after Effective Lifetime",
    "CWE-415": "Double Free",
    "CWE-416": "Use After Free",
    "CWE-457": "Use of Uninitialized Variable",
    "CWE-467": "Use of sizeof() on a Pointer Type",
    "CWE-476": "NULL Pointer Dereference",
    "CWE-562": "Return of Stack Variable Address",
    "CWE-590": "Free of Memory not on the Heap",
    "CWE-680": "Integer Overflow to Buffer Overflow",
    "CWE-690": "Unchecked Return Value to NULL Pointer Dereference",
    "CWE-762": "Mismatched Memory Management Routines",
    "CWE-775": "Missing Release of File Descriptor or Handle after Effective Lifetime",
    "CWE-786": "Access of Memory Location Before Start of Buffer",
    "CWE-788": "Access of Memory Location After End of Buffer",
    "CWE-823": "Use of Out-of-range Pointer Offset",
    "CWE-1336": "Improper Neutralization of Special Elements Used in a Template Engine",
}

# Weaknesses that name the same mistake at different levels of detail.
FAMILIES: list[set[str]] = [
    {"CWE-77", "CWE-78", "CWE-88"},
    {"CWE-94", "CWE-95", "CWE-917", "CWE-1336", "CWE-98"},
    # buffer errors: out-of-bounds writes and reads, wrong sizes (C engines name the same bug at
    # different levels: cppcheck says 787/788, clang 131, a Juliet case 121/122/124/126)
    {"CWE-119", "CWE-120", "CWE-121", "CWE-122", "CWE-124", "CWE-125", "CWE-126", "CWE-127", "CWE-131",
     "CWE-170", "CWE-786", "CWE-787", "CWE-788", "CWE-805", "CWE-806", "CWE-823", "CWE-467", "CWE-242", "CWE-676"},
    {"CWE-190", "CWE-191", "CWE-680", "CWE-681", "CWE-128"},
    {"CWE-415", "CWE-416", "CWE-825", "CWE-763"},
    {"CWE-476", "CWE-690"},
    {"CWE-457", "CWE-908", "CWE-665"},
    {"CWE-401", "CWE-772", "CWE-775"},
    {"CWE-590", "CWE-762", "CWE-761"},
    {"CWE-377", "CWE-378", "CWE-379"},
    {"CWE-327", "CWE-328", "CWE-916"},
    {"CWE-330", "CWE-338"},
    {"CWE-798", "CWE-259", "CWE-321"},
    {"CWE-22", "CWE-23", "CWE-36", "CWE-73"},
    {"CWE-611", "CWE-776"},
]

_ID = re.compile(r"CWE-?(\d+)", re.I)


def normalise(cwe: object) -> str:
    """'CWE-89', 'cwe-89: SQL...', 89 -> 'CWE-89'; anything else -> '' ."""
    if isinstance(cwe, int):
        return f"CWE-{cwe}"
    m = _ID.search(str(cwe or ""))
    return f"CWE-{int(m.group(1))}" if m else ""


def name(cwe_id: str) -> str:
    return NAMES.get(normalise(cwe_id), "")


def related(a: str, b: str) -> bool:
    """Same CWE, or two CWEs from one family."""
    a, b = normalise(a), normalise(b)
    if a == b:
        return True
    return any(a in fam and b in fam for fam in FAMILIES)
