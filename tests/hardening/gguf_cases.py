"""Malformed GGUF files, written byte by byte: the shapes of llama.cpp's GGUF-reader CVEs and a mutation fuzzer.

`encode` writes a GGUF from a `Spec` without checking anything, so a case can lie in any field: counts,
string and array lengths, dimensions, offsets, types, alignment. `hostile_cases()` is the fixed list
(named for the field it attacks); `mutate` derives random variants from any valid file's header.
Used by tests/hardening/test_gguf_fuzz.py and bench/bench_fuzz_gguf.py; nothing here is checked in as a file.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, replace

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
_FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<B",
        U64: "<Q", I64: "<q", F64: "<d"}
F32_TYPE, Q4_0_TYPE = 0, 2

# Boundary values a hostile u64 field takes: wrap to negative, wrap a product, overflow an addition.
HOSTILE_U64 = (1 << 64) - 1, 1 << 63, (1 << 63) - 1, 1 << 62, 1 << 32, (1 << 32) - 1, 1 << 40, 0


def s(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


@dataclass
class KV:
    key: str
    vtype: int
    value: object
    etype: int | None = None
    """Element type of an array."""
    raw: bytes | None = None
    """Bytes written instead of the encoded value (a lying length, a truncated value)."""
    count: int | None = None
    """Array length written instead of len(value)."""


@dataclass
class Tensor:
    name: str
    dims: tuple[int, ...]
    ttype: int = F32_TYPE
    offset: int | None = None
    """Relative data offset; None places the tensors one after another, aligned."""
    n_dims: int | None = None
    """Dimension count written instead of len(dims)."""


@dataclass
class Spec:
    kvs: list[KV]
    tensors: list[Tensor]
    version: int = 3
    n_tensors: int | None = None
    n_kv: int | None = None
    alignment: int = 32
    data: bytes | None = None
    """Tensor data written after the aligned header; None writes zeros enough for every tensor."""
    truncate: int | None = None
    magic: bytes = b"GGUF"


def _nbytes(t: Tensor) -> int:
    n = 1
    for d in t.dims:
        n *= d
    return n * 4 if t.ttype == F32_TYPE else n // 32 * 18


def _value(vtype: int, value, etype: int | None, count: int | None) -> bytes:
    if vtype == STR:
        return s(value)
    if vtype == ARR:
        items = list(value)
        out = struct.pack("<IQ", etype, len(items) if count is None else count)
        return out + b"".join(_value(etype, v, None, None) for v in items)
    return struct.pack(_FMT[vtype], value)


def encode(spec: Spec) -> bytes:
    """The bytes of `spec`, lies included."""
    kvs = b"".join(s(kv.key) + struct.pack("<I", kv.vtype)
                   + (kv.raw if kv.raw is not None else _value(kv.vtype, kv.value, kv.etype, kv.count))
                   for kv in spec.kvs)
    infos, at = [], 0
    for t in spec.tensors:
        off = at if t.offset is None else t.offset
        dims = b"".join(struct.pack("<Q", d & ((1 << 64) - 1)) for d in t.dims)
        infos.append(s(t.name) + struct.pack("<I", len(t.dims) if t.n_dims is None else t.n_dims) + dims
                     + struct.pack("<IQ", t.ttype, off & ((1 << 64) - 1)))
        try:
            at += -(-min(_nbytes(t), 1 << 30) // spec.alignment) * spec.alignment
        except ZeroDivisionError:
            at += min(_nbytes(t), 1 << 30)
    head = spec.magic + struct.pack("<IQQ", spec.version,
                                    len(spec.tensors) if spec.n_tensors is None else spec.n_tensors,
                                    len(spec.kvs) if spec.n_kv is None else spec.n_kv)
    body = head + kvs + b"".join(infos)
    align = spec.alignment if spec.alignment > 0 and spec.alignment & (spec.alignment - 1) == 0 else 32
    body += b"\0" * (-len(body) % align)
    body += spec.data if spec.data is not None else b"\0" * min(at, 1 << 20)
    return body if spec.truncate is None else body[: spec.truncate]


TOKENS = ["<s>", "</s>", "<|im_start|>", "<|im_end|>", "a", "b", "c", "d"]
CHATML = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def base_spec() -> Spec:
    """A small, valid GGUF (passes the validator; too small to be a working model)."""
    return Spec(
        kvs=[KV("general.architecture", STR, "llama"), KV("general.name", STR, "fuzz-base"),
             KV("general.alignment", U32, 32),
             KV("llama.context_length", U32, 2048), KV("llama.block_count", U32, 1),
             KV("llama.embedding_length", U32, 64), KV("llama.attention.head_count", U32, 4),
             KV("tokenizer.ggml.model", STR, "gpt2"),
             KV("tokenizer.ggml.tokens", ARR, TOKENS, etype=STR),
             KV("tokenizer.ggml.scores", ARR, [0.0] * len(TOKENS), etype=F32),
             KV("tokenizer.ggml.token_type", ARR, [1] * len(TOKENS), etype=I32),
             KV("tokenizer.ggml.eos_token_id", U32, 3), KV("tokenizer.ggml.add_bos_token", BOOL, 0),
             KV("tokenizer.chat_template", STR, CHATML)],
        tensors=[Tensor("token_embd.weight", (64, 8)), Tensor("output_norm.weight", (64,))],
    )


def _kv(spec: Spec, key: str) -> KV:
    return next(kv for kv in spec.kvs if kv.key == key)


def _with_kv(key: str, **changes) -> Spec:
    spec = base_spec()
    kv = _kv(spec, key)
    spec.kvs[spec.kvs.index(kv)] = replace(kv, **changes)
    return spec


def _with_tensor(i: int, **changes) -> Spec:
    spec = base_spec()
    spec.tensors[i] = replace(spec.tensors[i], **changes)
    return spec


def _plus(*kvs: KV) -> Spec:
    spec = base_spec()
    spec.kvs.extend(kvs)
    return spec


def hostile_cases() -> list[tuple[str, bytes]]:
    """(name, file bytes) for each fixed hostile shape; every one must be refused."""
    base = encode(base_spec())
    cases: list[tuple[str, Spec | bytes]] = [
        ("empty file", b""),
        ("magic only", b"GGUF"),
        ("bad magic", encode(replace(base_spec(), magic=b"GGML"))),
        ("version 1", encode(replace(base_spec(), version=1))),
        ("version 0xffffffff", encode(replace(base_spec(), version=0xFFFFFFFF))),
        ("truncated in the header", base[:20]),
        ("truncated in the metadata", base[:120]),
        ("truncated in the tensor table", base[: len(base) - (len(base) - base.index(b"output_norm")) - 4]),
        ("truncated in the tensor data", base[:-16]),
        ("garbage after magic", b"GGUF" + bytes(range(256)) * 8),
        ("chat template that does not compile", _with_kv("tokenizer.chat_template", value="{% for x in %}")),
        ("chat template escaping the sandbox",
         _with_kv("tokenizer.chat_template", value="{{ ''.__class__.__mro__[1].__subclasses__() }}")),
        ("chat template nested 5000 deep", _with_kv("tokenizer.chat_template", value="{% if 1 %}" * 5000 + "x"
                                                     + "{% endif %}" * 5000)),
        ("named chat template that does not compile", _plus(KV("tokenizer.chat_template.tool_use", STR, "{{ x ")))]
    for v in HOSTILE_U64:
        if v > 64:  # counts the file cannot hold (CVE-2025-53630: n_tensors * sizeof wraps)
            cases.append((f"tensor count {v}", replace(base_spec(), n_tensors=v)))
            cases.append((f"metadata count {v}", replace(base_spec(), n_kv=v)))
            cases.append((f"key length {v}", _raw_key_length(v)))
            cases.append((f"string length {v}", _with_kv("general.name", raw=struct.pack("<Q", v) + b"x")))
            cases.append((f"array length {v} (strings)", _with_kv("tokenizer.ggml.tokens", count=v)))
            cases.append((f"array length {v} (f32)", _with_kv("tokenizer.ggml.scores", count=v)))
            cases.append((f"tensor offset {v}", _with_tensor(1, offset=v - v % 32)))
            cases.append((f"tensor name length {v}", _raw_tensor_name_length(v)))
        if v >= 1 << 32:  # dimensions: negative as int64, or a product that wraps size_t (CVE-2026-27940)
            cases.append((f"dimension {v}", _with_tensor(1, dims=(v,))))
            cases.append((f"dims ({v}, {v})", _with_tensor(0, dims=(64, v))))
    cases += [
        ("dims product wraps 2^64 exactly", _with_tensor(0, dims=(1 << 32, 1 << 32))),
        ("dims product wraps after the type size (x4 bytes)", _with_tensor(0, dims=(1 << 31, 1 << 31, 2))),
        ("four dims of 2^16 (2^64 elements)", _with_tensor(0, dims=(1 << 16,) * 4)),
        ("Q4_0 dims whose byte size wraps", _with_tensor(0, ttype=Q4_0_TYPE, dims=(1 << 40, 1 << 30))),
        ("zero dimension", _with_tensor(0, dims=(64, 0))),
        ("5 dimensions", _with_tensor(0, dims=(2, 2, 2, 2, 4))),
        ("n_dims 0", _with_tensor(1, n_dims=0, dims=())),
        ("n_dims 0xffffffff", _with_tensor(1, n_dims=0xFFFFFFFF)),
        ("unknown tensor type 4 (removed Q4_2)", _with_tensor(0, ttype=4)),
        ("unknown tensor type 0xffffffff", _with_tensor(0, ttype=0xFFFFFFFF)),
        ("row not a multiple of the block", _with_tensor(0, ttype=Q4_0_TYPE, dims=(48, 8))),
        ("offset not aligned", _with_tensor(1, offset=3)),
        ("tensors overlap", _with_tensor(1, offset=0)),
        ("offset just past the end", _with_tensor(1, offset=1 << 20)),
        ("tensor name of 64 bytes", _with_tensor(0, name="t" * 64)),
        ("duplicate tensor name", _with_tensor(1, name="token_embd.weight")),
        ("no tensors", replace(base_spec(), tensors=[])),
        ("alignment 0", _with_kv("general.alignment", value=0)),
        ("alignment 3", _with_kv("general.alignment", value=3)),
        ("alignment 2^31", _with_kv("general.alignment", value=1 << 31)),
        ("alignment as a string (type confusion)", _with_kv("general.alignment", vtype=STR, value="32")),
        ("architecture as uint32 (type confusion)", _with_kv("general.architecture", vtype=U32, value=7)),
        ("architecture missing", replace(base_spec(), kvs=base_spec().kvs[1:])),
        ("architecture unknown", _with_kv("general.architecture", value="notanarch")),
        ("architecture with a NUL", _with_kv("general.architecture", value="llama\0evil")),
        ("tokens as an int array (type confusion)", _with_kv("tokenizer.ggml.tokens", etype=I32, value=[1] * 8)),
        ("scores as strings (type confusion)", _with_kv("tokenizer.ggml.scores", etype=STR, value=["x"] * 8)),
        ("scores shorter than the vocabulary", _with_kv("tokenizer.ggml.scores", value=[0.0] * 3)),
        ("token types shorter than the vocabulary", _with_kv("tokenizer.ggml.token_type", value=[1] * 2)),
        ("chat template as an array (type confusion)", _with_kv("tokenizer.chat_template", vtype=ARR, etype=STR,
                                                                value=["x"])),
        ("array of arrays", _plus(KV("x.nested", ARR, [], etype=ARR))),
        ("unknown value type 13", _plus(KV("x.bad", 13, 0, raw=b"\0" * 8))),
        ("unknown value type 0xffffffff", _plus(KV("x.bad", 0xFFFFFFFF, 0, raw=b"\0" * 8))),
        ("unknown array element type 99", _plus(KV("x.bad", ARR, [], etype=99))),
        ("bool holding 2", _with_kv("tokenizer.ggml.add_bos_token", raw=b"\x02")),
        ("duplicate metadata key", _plus(KV("general.name", STR, "again"))),
        ("duplicate token", _with_kv("tokenizer.ggml.tokens", value=TOKENS[:-1] + ["a"])),
        ("token equal to another up to a NUL (llama.cpp abort)",
         _with_kv("tokenizer.ggml.tokens", value=TOKENS[:-1] + ["a\0\0\0\0b"])),
        ("tensor name with a NUL", _with_tensor(1, name="token_embd.weight\0x")),
        ("string length one past the end", _with_kv("tokenizer.chat_template", raw=struct.pack("<Q", 10 ** 6) + b"x")),
    ]
    return [(name, c if isinstance(c, bytes) else encode(c)) for name, c in cases]


def _raw_key_length(v: int) -> bytes:
    body = encode(base_spec())
    return body[:24] + struct.pack("<Q", v) + body[32:]  # the first key's length field


def _raw_tensor_name_length(v: int) -> bytes:
    body = bytearray(encode(base_spec()))
    at = body.index(b"output_norm.weight") - 8
    struct.pack_into("<Q", body, at, v)
    return bytes(body)


def mutate(data: bytes, rng: random.Random, *, header_end: int,
           zones: list[tuple[int, int]] | None = None) -> tuple[str, bytes]:
    """One random mutation of a valid file's header region (`data[:header_end]`): (what, new bytes).
    Kinds: a boundary value over an 8- or 4-byte field, a random bit flip, a byte run overwritten,
    a truncation, a chunk duplicated or dropped (shifts every later field). `zones` (byte ranges)
    focus the position, e.g. on the counts and the tensor table rather than the vocabulary's text."""
    buf = bytearray(data)
    kind = rng.choice(("u64", "u64", "u32", "flip", "flip", "run", "truncate", "dup", "drop"))
    lo, hi = rng.choice(zones) if zones else (4, header_end)
    at = rng.randrange(max(4, lo), max(lo + 1, min(hi, header_end) - 8))
    if kind == "u64":
        v = rng.choice(HOSTILE_U64 + (len(data), len(data) + 1, rng.getrandbits(64)))
        struct.pack_into("<Q", buf, at, v)
        return f"u64 {v} at {at}", bytes(buf)
    if kind == "u32":
        v = rng.choice((0, 1, 0xFFFFFFFF, 0x80000000, 13, 99, rng.getrandbits(32)))
        struct.pack_into("<I", buf, at, v)
        return f"u32 {v} at {at}", bytes(buf)
    if kind == "flip":
        bit = rng.randrange(8)
        buf[at] ^= 1 << bit
        return f"bit {bit} flipped at {at}", bytes(buf)
    if kind == "run":
        n = rng.randrange(1, 64)
        buf[at:at + n] = bytes(rng.getrandbits(8) for _ in range(n))
        return f"{n} random bytes at {at}", bytes(buf)
    if kind == "truncate":
        return f"truncated to {at}", bytes(buf[:at])
    n = rng.randrange(1, 32)
    if kind == "dup":
        return f"{n} bytes duplicated at {at}", bytes(buf[:at + n] + buf[at:])
    return f"{n} bytes dropped at {at}", bytes(buf[:at] + buf[at + n:])
