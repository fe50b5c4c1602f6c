"""A bilingual (English ↔ Chinese) security glossary for cross-lingual retrieval.

Written for this project from CWE / OWASP terminology. The bundle's embedder is
usually English-only (MiniLM), so a Chinese question embeds to noise and shares no
BM25 terms with English documents. `expand` finds glossary terms in the question and
adds their other-language equivalents: the lexical side gets both languages, the
dense side gets an English rendering (the question's own Latin-script words plus
the English terms) when the question is mostly Chinese.

Each entry: English forms (the first is canonical) and Chinese forms. Matching is
case-insensitive on word boundaries for English, by substring for Chinese (longest
first, so 存储型跨站脚本 wins over 跨站脚本).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENTRIES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    # injection
    (("SQL injection", "SQLi"), ("SQL注入", "sql注入", "SQL 注入")),
    (("blind SQL injection", "time delay"), ("SQL盲注", "盲注", "时间盲注")),
    (("parameterized query", "prepared statement", "bind variable"), ("参数化查询", "预编译语句", "预处理语句")),
    (("command injection", "OS command injection", "shell"), ("命令注入", "系统命令注入", "命令执行")),
    (("code injection", "eval"), ("代码注入", "代码执行")),
    (("remote code execution", "RCE"), ("远程代码执行",)),
    (("LDAP injection",), ("LDAP注入",)),
    (("XPath injection",), ("XPath注入",)),
    (("XML injection", "XML External Entity", "XXE"), ("XML注入", "XML外部实体", "外部实体注入")),
    (("NoSQL injection", "MongoDB"), ("NoSQL注入",)),
    (("ORM injection",), ("ORM注入",)),
    (("server-side template injection", "SSTI", "template"), ("服务端模板注入", "模板注入")),
    (("client-side template injection",), ("客户端模板注入",)),
    (("HTML injection",), ("HTML注入",)),
    (("CSS injection",), ("CSS注入",)),
    (("CSV injection", "formula injection", "spreadsheet"), ("CSV注入", "公式注入", "电子表格")),
    (("SSI injection", "server-side includes"), ("SSI注入", "服务端包含")),
    (("IMAP SMTP injection", "mail"), ("邮件注入", "IMAP注入", "SMTP注入")),
    (("format string",), ("格式化字符串",)),
    (("HTTP response splitting", "CRLF"), ("HTTP响应拆分", "响应拆分", "CRLF注入")),
    (("HTTP request smuggling", "Content-Length", "Transfer-Encoding"), ("HTTP请求走私", "请求走私")),
    (("host header injection", "Host header"), ("Host头注入", "主机头注入")),
    (("injection", "inject"), ("注入",)),
    (("payload",), ("载荷", "攻击载荷", "有效载荷")),
    # XSS and client side
    (("cross-site scripting", "XSS"), ("跨站脚本", "XSS攻击", "跨站脚本攻击")),
    (("reflected cross-site scripting", "reflected XSS", "non-persistent"), ("反射型跨站脚本", "反射型XSS", "反射型")),
    (("stored cross-site scripting", "stored XSS", "persistent"), ("存储型跨站脚本", "存储型XSS", "存储型")),
    (("DOM-based cross-site scripting", "DOM XSS"), ("DOM型跨站脚本", "DOM型XSS", "DOM型")),
    (("clickjacking", "frame-ancestors", "X-Frame-Options", "iframe"), ("点击劫持", "界面劫持")),
    (("cross-site request forgery", "CSRF", "anti-CSRF token"), ("跨站请求伪造", "CSRF攻击")),
    (("cross-origin resource sharing", "CORS", "Access-Control-Allow-Origin"), ("跨域资源共享", "跨域")),
    (("same-origin policy", "origin"), ("同源策略", "源")),
    (("content security policy", "CSP"), ("内容安全策略",)),
    (("open redirect", "URL redirect", "redirect"), ("开放重定向", "URL重定向", "重定向", "跳转")),
    (("reverse tabnabbing", "window.opener"), ("反向标签劫持", "标签页劫持")),
    (("web messaging", "postMessage"), ("跨文档消息", "网页消息", "postMessage")),
    (("browser storage", "localStorage", "sessionStorage"), ("浏览器存储", "本地存储")),
    (("WebSocket",), ("WebSocket", "网络套接字")),
    (("prototype pollution",), ("原型污染", "原型链污染")),
    (("JavaScript", "script"), ("脚本",)),
    # access control
    (("path traversal", "directory traversal", "../", "dot-dot-slash"), ("路径遍历", "目录遍历", "目录穿越", "路径穿越")),
    (("file inclusion", "local file inclusion", "LFI", "include"), ("文件包含", "本地文件包含")),
    (("remote file inclusion", "RFI"), ("远程文件包含",)),
    (("access control", "authorization"), ("访问控制", "授权", "权限控制")),
    (("broken access control",), ("访问控制失效", "失效的访问控制")),
    (("privilege escalation",), ("权限提升", "提权", "越权")),
    (("insecure direct object reference", "IDOR"), ("不安全的直接对象引用", "直接对象引用")),
    (("broken object level authorization", "BOLA"), ("对象级授权失效",)),
    (("broken function level authorization", "BFLA"), ("功能级授权失效",)),
    (("mass assignment", "is_admin"), ("批量赋值", "大量赋值")),
    (("missing authorization",), ("缺少授权", "授权缺失")),
    (("role", "role definitions"), ("角色", "角色定义")),
    # authentication and sessions
    (("authentication",), ("认证", "身份认证", "身份验证", "鉴权")),
    (("broken authentication", "weak authentication"), ("认证失效", "弱认证")),
    (("multi-factor authentication", "MFA", "2FA", "two-factor", "OTP"), ("多因素认证", "双因素认证", "多因子认证", "二次验证")),
    (("default credentials", "default password"), ("默认凭据", "默认密码", "默认口令")),
    (("password", "credentials"), ("密码", "口令", "凭据", "凭证")),
    (("password policy", "password complexity"), ("密码策略", "密码复杂度")),
    (("password reset", "forgot password", "password change"), ("密码重置", "找回密码", "修改密码")),
    (("security question",), ("安全问题", "密保问题")),
    (("remember password", "remember me"), ("记住密码", "记住我")),
    (("brute force", "password guessing"), ("暴力破解", "爆破", "密码猜测")),
    (("account lockout", "lock out", "unsuccessful attempts"), ("账户锁定", "账号锁定", "锁定机制", "失败登录", "登录失败")),
    (("account enumeration", "username enumeration", "user enumeration"), ("账户枚举", "用户名枚举", "用户枚举")),
    (("user registration",), ("用户注册", "注册")),
    (("account provisioning",), ("账户开通", "账户配置")),
    (("login", "log in", "sign in"), ("登录", "登陆")),
    (("logout", "log out"), ("注销", "登出", "退出登录")),
    (("session management", "session"), ("会话管理", "会话")),
    (("session fixation",), ("会话固定", "会话固化")),
    (("session hijacking",), ("会话劫持",)),
    (("session timeout", "idle timeout", "inactivity"), ("会话超时", "空闲超时", "超时")),
    (("session token", "session ID", "session identifier"), ("会话令牌", "会话标识", "会话ID")),
    (("concurrent sessions",), ("并发会话",)),
    (("session puzzling", "session variable overloading"), ("会话混淆",)),
    (("cookie", "cookies"), ("Cookie", "cookie", "小甜饼")),
    (("HttpOnly", "HttpOnly attribute"), ("HttpOnly属性", "HttpOnly")),
    (("Secure attribute",), ("Secure属性",)),
    (("SameSite", "SameSite attribute"), ("SameSite属性", "SameSite")),
    (("cookie attributes", "Set-Cookie"), ("Cookie属性",)),
    (("JSON Web Token", "JWT", "alg", "signature"), ("JWT", "JSON网络令牌", "令牌签名")),
    (("OAuth", "authorization server", "access token"), ("OAuth", "授权服务器", "访问令牌")),
    (("token",), ("令牌", "票据")),
    # crypto and transport
    (("cryptography", "encryption", "cipher"), ("密码学", "加密", "密码算法")),
    (("weak cryptography", "weak cipher", "weak hash", "MD5", "SHA1", "RC4", "DES"), ("弱加密", "弱密码算法", "弱哈希")),
    (("hash", "hashing"), ("哈希", "散列")),
    (("ECB", "Electronic Code Book", "block cipher mode"), ("ECB模式", "电子密码本", "分组模式")),
    (("PBKDF2", "iterations", "password hashing"), ("PBKDF2", "迭代次数", "密码哈希")),
    (("padding oracle", "padding", "CBC"), ("填充预言", "填充提示", "Padding Oracle", "填充")),
    (("encryption key", "key"), ("密钥", "加密密钥")),
    (("random number", "randomness", "entropy"), ("随机数", "熵")),
    (("TLS", "SSL", "transport layer security", "HTTPS"), ("传输层安全", "TLS", "SSL", "加密通道", "HTTPS")),
    (("HTTP Strict Transport Security", "HSTS", "Strict-Transport-Security", "max-age", "includeSubDomains"),
     ("HTTP严格传输安全", "严格传输安全", "HSTS")),
    (("unencrypted channel", "cleartext", "plaintext"), ("未加密通道", "明文", "明文传输")),
    (("certificate",), ("证书",)),
    # SSRF, deserialization, files
    (("server-side request forgery", "SSRF", "internal"), ("服务端请求伪造", "服务器端请求伪造", "SSRF")),
    (("cloud metadata", "169.254.169.254", "metadata"), ("云元数据", "元数据")),
    (("insecure deserialization", "deserialization", "serialized object"), ("反序列化", "不安全的反序列化", "序列化")),
    (("file upload", "upload", "malicious file", "file type"), ("文件上传", "上传", "恶意文件", "文件类型")),
    (("file permission",), ("文件权限",)),
    (("backup files", "unreferenced files", "old files"), ("备份文件", "旧文件")),
    (("file extension",), ("文件扩展名", "扩展名", "后缀")),
    (("buffer overflow",), ("缓冲区溢出",)),
    (("integer overflow",), ("整数溢出",)),
    (("denial of service", "DoS", "resource consumption"), ("拒绝服务", "资源耗尽")),
    # configuration and information gathering
    (("security misconfiguration", "misconfiguration", "configuration"), ("安全配置错误", "错误配置", "配置")),
    (("HTTP methods", "HTTP verbs", "OPTIONS", "PUT", "DELETE", "TRACE"), ("HTTP方法", "请求方法", "HTTP动词")),
    (("cross-site tracing", "XST", "TRACE method"), ("跨站追踪", "TRACE方法")),
    (("HTTP verb tampering",), ("HTTP动词篡改", "请求方法篡改")),
    (("HTTP parameter pollution", "HPP", "same name"), ("HTTP参数污染", "参数污染")),
    (("security headers", "HTTP header", "response header"), ("安全响应头", "响应头", "HTTP头", "请求头")),
    (("admin interface", "administrative interface"), ("管理界面", "管理后台", "后台")),
    (("subdomain takeover", "DNS", "CNAME"), ("子域名接管", "子域接管", "DNS")),
    (("cloud storage", "S3 bucket"), ("云存储", "存储桶")),
    (("fingerprint", "fingerprinting", "banner"), ("指纹识别", "指纹", "识别")),
    (("web server",), ("Web服务器", "网页服务器", "服务器")),
    (("web application framework", "framework"), ("Web应用框架", "框架")),
    (("robots.txt", "metafiles", "crawler", "spider"), ("robots.txt", "爬虫", "元文件")),
    (("search engine discovery", "reconnaissance", "Google dorks"), ("搜索引擎侦察", "信息收集", "侦察")),
    (("entry points", "attack surface"), ("入口点", "攻击面")),
    (("information leakage", "information disclosure", "sensitive information", "sensitive data exposure"),
     ("信息泄露", "敏感信息", "敏感信息泄露", "敏感数据泄露")),
    (("error handling", "error message"), ("错误处理", "错误信息", "报错信息")),
    (("stack trace",), ("堆栈跟踪", "堆栈信息")),
    (("logging", "monitoring"), ("日志", "监控")),
    (("business logic",), ("业务逻辑",)),
    (("workflow circumvention", "work flows"), ("绕过工作流", "流程绕过")),
    (("race condition", "process timing", "timing"), ("竞争条件", "条件竞争", "时序")),
    (("payment", "payment functionality"), ("支付", "支付功能")),
    (("API", "REST API"), ("API", "接口", "应用程序接口")),
    (("GraphQL", "introspection"), ("GraphQL", "内省", "内省查询")),
    (("excessive data exposure",), ("过度数据暴露",)),
    (("fuzzing", "fuzzer"), ("模糊测试",)),
    (("encoding", "encoded injection"), ("编码", "编码注入")),
    (("input validation", "validation", "sanitization"), ("输入验证", "输入校验", "校验", "过滤")),
    (("output encoding", "escaping"), ("输出编码", "转义")),
    (("allow list", "whitelist"), ("白名单", "允许列表")),
    (("deny list", "blacklist"), ("黑名单", "拒绝列表")),
    (("web application firewall", "WAF"), ("Web应用防火墙", "防火墙")),
    (("penetration testing", "security testing", "testing"), ("渗透测试", "安全测试", "测试")),
    (("vulnerability", "weakness"), ("漏洞", "弱点", "缺陷")),
    (("attacker", "attack"), ("攻击者", "攻击")),
    (("exploit",), ("利用", "漏洞利用")),
    (("prevent", "mitigate", "defense", "remediation", "fix"), ("防御", "防止", "防范", "修复", "缓解", "预防")),
    (("detect", "identify", "test for"), ("检测", "发现", "如何测试")),
    (("user input", "untrusted input"), ("用户输入", "不可信输入")),
    (("database",), ("数据库",)),
    (("file", "files"), ("文件",)),
    (("read",), ("读取",)),
    (("/etc/passwd", "password file"), ("密码文件",)),
    (("browser cache", "cache"), ("浏览器缓存", "缓存")),
    (("hard-coded credentials",), ("硬编码凭据", "硬编码密码")),
    (("out-of-bounds write",), ("越界写",)),
    (("out-of-bounds read",), ("越界读",)),
    (("use after free",), ("释放后使用",)),
    (("null pointer dereference",), ("空指针解引用",)),
    (("components with known vulnerabilities", "outdated components"), ("已知漏洞组件", "过时组件")),
    (("software and data integrity",), ("软件和数据完整性",)),
    (("insecure design",), ("不安全设计",)),
]


@dataclass(frozen=True)
class Term:
    en: tuple[str, ...]
    zh: tuple[str, ...]


TERMS: tuple[Term, ...] = tuple(Term(en, zh) for en, zh in _ENTRIES)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.\-/]*")


def cjk_share(text: str) -> float:
    """Share of CJK characters among the letters of `text` (0..1)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if _CJK.match(c)) / len(letters)


def language(text: str) -> str:
    """'zh' when Chinese characters dominate the letters, else 'en'."""
    return "zh" if cjk_share(text) >= 0.3 else "en"


def _en_pattern(term: str) -> re.Pattern:
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(term.lower()) + r"(?![A-Za-z0-9])")


_EN_INDEX: list[tuple[re.Pattern, int]] = sorted(
    ((_en_pattern(t), i) for i, term in enumerate(TERMS) for t in term.en), key=lambda p: -len(p[0].pattern))
_ZH_INDEX: list[tuple[str, int]] = sorted(((t, i) for i, term in enumerate(TERMS) for t in term.zh if _CJK.search(t)),
                                          key=lambda p: -len(p[0]))


def matches(text: str) -> list[Term]:
    """Glossary entries mentioned in `text` (Chinese by substring, longest first; English by whole word)."""
    found: list[int] = []
    rest = text
    for t, i in _ZH_INDEX:
        if t in rest:
            rest = rest.replace(t, " ")
            if i not in found:
                found.append(i)
    low = rest.lower()
    for pat, i in _EN_INDEX:
        if pat.search(low):
            low = pat.sub(" ", low)
            if i not in found:
                found.append(i)
    return [TERMS[i] for i in found]


@dataclass(frozen=True)
class Expansion:
    lang: str
    """The question's language ('zh' or 'en')."""
    lexical: str
    """The question plus other-language glossary terms (for BM25)."""
    cross: str
    """Only the other-language glossary terms (a BM25 query of its own; '' when none)."""
    dense: str
    """What to embed: the question, or an English rendering of a Chinese question."""
    terms: tuple[Term, ...]


def expand(question: str) -> Expansion:
    """Cross-lingual query expansion of `question` (see the module docstring)."""
    lang = language(question)
    terms = tuple(matches(question))
    if lang == "zh":
        english = [t.en[0] for t in terms]
        latin = _LATIN_WORD.findall(question)
        dense = " ".join(dict.fromkeys(latin + english)) if english else question
        cross = " ".join(dict.fromkeys(latin + [en for t in terms for en in t.en[:2]])) if terms else ""
    else:
        dense = question
        cross = " ".join(dict.fromkeys(zh for t in terms for zh in t.zh[:2]))
    lexical = f"{question}\n{cross}" if cross else question
    return Expansion(lang=lang, lexical=lexical.strip(), dense=dense.strip(), cross=cross.strip(), terms=terms)
