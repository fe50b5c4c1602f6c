"""Validate a GGUF file before llama.cpp is allowed to load it.

llama.cpp trusts the header: a truncated download or a hostile file can make it
read past the end of the mapping and die in native code. This module reads the
header, the metadata and the tensor table with bounded, pure-Python parsing
(every length is checked against the bytes left in the file before anything is
allocated) and raises one `ModelFileError` naming the file and the problem:
bad magic, unsupported version, a string or array longer than the file, a
tensor whose data runs past the end, an unknown tensor type, an architecture
the installed llama.cpp does not know.

No dependency beyond the standard library: the app never imports `gguf`.
"""

from __future__ import annotations

import logging
import mmap
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.errors import EngineError
from app.llm.template_sandbox import SAMPLE, render_in_child

log = logging.getLogger(__name__)

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
MAX_KEY_BYTES = 64 * 1024
MAX_STRING_BYTES = 64 * 1024 * 1024
MAX_ARRAY_DEPTH = 1
"""Arrays of arrays: gguf-py can write them, llama.cpp cannot read them; refused."""
MAX_DIMS = 4
_STRING, _ARRAY = 8, 9
MAX_TENSOR_NAME = 63
"""ggml keeps tensor names in a 64-byte buffer (GGML_MAX_NAME), NUL included."""
INT64_MAX = (1 << 63) - 1
"""ggml holds dimensions, element counts and byte sizes in int64/size_t: a product past this wraps in C
(CVE-2025-53630, CVE-2026-27940: a wrapped size allocates a small buffer and the copy overruns it)."""
MIN_KV_BYTES = 8 + 4 + 1
"""Smallest metadata entry: key length, value type, a one-byte value."""
MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8
"""Smallest tensor entry: name length, dimension count, one dimension, type, offset."""

# Keys llama.cpp reads with a fixed type: a file giving another type (type confusion) is refused here.
_U32, _I32, _F32, _BOOL = 4, 5, 6, 7
EXPECTED_TYPES: dict[str, tuple[int, int | None]] = {
    "general.architecture": (_STRING, None),
    "general.alignment": (_U32, None),
    "general.name": (_STRING, None),
    "tokenizer.ggml.model": (_STRING, None),
    "tokenizer.chat_template": (_STRING, None),
    "tokenizer.ggml.tokens": (_ARRAY, _STRING),
    "tokenizer.ggml.merges": (_ARRAY, _STRING),
    "tokenizer.ggml.scores": (_ARRAY, _F32),
    "tokenizer.ggml.token_type": (_ARRAY, _I32),
}
"""key -> (value type, element type for arrays)."""
VOCAB_PARALLEL = ("tokenizer.ggml.scores", "tokenizer.ggml.token_type")
"""Arrays llama.cpp indexes by token id: shorter than the vocabulary means an out-of-bounds read."""
KEPT_ARRAY_KEYS = ("tokenizer.ggml.tokens",)
"""String arrays kept in `metadata` (others are checked and skipped: merges alone are ~150k strings)."""
UNIQUE_ARRAY_KEYS = ("tokenizer.ggml.tokens",)
"""Found by bench/bench_fuzz_gguf.py (4 NUL bytes written into 'Ġhypothermia', which llama.cpp then reads
as the existing 'Ġhypoth'): a vocabulary with two equal tokens fails
GGML_ASSERT(id_to_token.size() == token_to_id.size()) in llama-vocab.cpp, an abort() that kills the process."""

# value type id -> (struct format, size); 8 = string, 9 = array
_SCALARS = {0: ("<B", 1), 1: ("<b", 1), 2: ("<H", 2), 3: ("<h", 2), 4: ("<I", 4), 5: ("<i", 4),
            6: ("<f", 4), 7: ("<?", 1), 10: ("<Q", 8), 11: ("<q", 8), 12: ("<d", 8)}

# ggml tensor type id -> (name, elements per block, bytes per block). From ggml.h / gguf-py constants.
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292), 16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98), 19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2),
    26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36), 41: ("Q1_0", 128, 18),
}


class ModelFileError(EngineError):
    """A model file is not a GGUF llama.cpp can safely load."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    type_name: str
    offset: int
    """Absolute byte offset of the tensor data in the file."""
    nbytes: int


@dataclass
class GGUFInfo:
    """What the header says, after every length in it was checked against the file."""

    path: Path
    version: int
    file_size: int
    metadata: dict[str, Any]
    tensors: list[TensorInfo] = field(default_factory=list)
    data_offset: int = 0

    @property
    def architecture(self) -> str | None:
        arch = self.metadata.get("general.architecture")
        return arch if isinstance(arch, str) else None

    def arch_value(self, suffix: str, default: Any = None) -> Any:
        """`{architecture}.{suffix}` from the metadata (e.g. `context_length`)."""
        return self.metadata.get(f"{self.architecture}.{suffix}", default)

    @property
    def name(self) -> str | None:
        v = self.metadata.get("general.name")
        return v if isinstance(v, str) else None

    @property
    def tensor_bytes(self) -> int:
        return sum(t.nbytes for t in self.tensors)


class _Reader:
    """Bounded reads over a read-only mapping: every length is checked against the file before use."""

    def __init__(self, buf, size: int, path: Path) -> None:
        self.buf, self.size, self.path, self.pos = buf, size, path, 0

    def fail(self, what: str) -> ModelFileError:
        return ModelFileError(f"{self.path}: {what} (at byte {self.pos} of {self.size}); not a loadable GGUF",
                              hint="the file is truncated, damaged or hostile; download or copy it again")

    def need(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > self.size:
            raise self.fail(f"{what} needs {n} bytes but the file ends first")

    def read(self, n: int, what: str) -> bytes:
        self.need(n, what)
        data = self.buf[self.pos:self.pos + n]
        self.pos += n
        return data

    def skip(self, n: int, what: str) -> None:
        self.need(n, what)
        self.pos += n

    def scalar(self, fmt: str, size: int, what: str) -> Any:
        self.need(size, what)
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += size
        return v

    def u32(self, what: str) -> int:
        return self.scalar("<I", 4, what)

    def u64(self, what: str) -> int:
        return self.scalar("<Q", 8, what)

    def string(self, what: str, limit: int = MAX_STRING_BYTES) -> str:
        n = self.u64(f"length of {what}")
        if n > limit:
            raise self.fail(f"{what} claims {n} bytes (limit {limit})")
        return _decode(self.read(n, what))

    def strings(self, count: int, what: str, *, keep: bool, unique: bool = False) -> list[str] | None:
        """`count` length-prefixed strings (a vocabulary is ~150k): one tight, bounds-checked loop.
        With `unique`, two strings equal up to their first NUL byte are refused: llama.cpp reads each
        vocabulary entry as a C string, so "ab\\0c" is "ab" to it."""
        buf, size, pos, out = self.buf, self.size, self.pos, [] if keep else None
        seen: dict[bytes, int] | None = {} if unique else None
        unpack = struct.Struct("<Q").unpack_from
        for i in range(count):
            if pos + 8 > size:
                self.pos = pos
                raise self.fail(f"{what}: element {i} of {count} needs 8 bytes but the file ends first")
            n = unpack(buf, pos)[0]
            pos += 8
            if n > MAX_STRING_BYTES or pos + n > size:
                self.pos = pos
                raise self.fail(f"{what}: element {i} claims {n} bytes, past the end of the file")
            if seen is not None:
                raw = bytes(buf[pos:pos + n]).split(b"\0", 1)[0]
                if raw in seen:
                    self.pos = pos
                    raise self.fail(f"{what}: element {i} {_decode(bytes(buf[pos:pos + n]))[:60]!r} reads as "
                                    f"element {seen[raw]} {_decode(raw)[:60]!r} to llama.cpp (as C strings), which "
                                    "aborts on a vocabulary with two equal tokens")
                seen[raw] = i
            if out is not None:
                out.append(_decode(buf[pos:pos + n]))
            pos += n
        self.pos = pos
        return out


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def check_gguf(path: Path, *, check_arch: bool = True) -> GGUFInfo:
    """Parse and check `path`; return its header, or raise `ModelFileError` saying why not.

    With `check_arch`, the architecture must be one the installed llama.cpp knows.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: model file not found", hint="check the path")
    size = path.stat().st_size
    if size < 24:
        raise ModelFileError(f"{path}: file is too small ({size} bytes) to hold a GGUF header; not a loadable GGUF",
                             hint="the file is truncated or empty; download or copy it again")
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        r = _Reader(buf, size, path)
        magic = r.read(4, "magic")
        if magic != MAGIC:
            raise ModelFileError(f"{path}: bad magic {magic!r} (expected b'GGUF'); not a GGUF model file",
                                 hint="give a .gguf file (convert other formats with llama.cpp's convert_hf_to_gguf.py)")
        version = r.u32("version")
        if version not in SUPPORTED_VERSIONS:
            raise ModelFileError(f"{path}: GGUF version {version} is not supported (llama.cpp reads versions 2 and 3)",
                                 hint="re-convert the model with a current llama.cpp")
        n_tensors = r.u64("tensor count")
        n_kv = r.u64("metadata count")
        # Each KV needs >= 8+1+4+1 bytes and each tensor info >= 8+1+4+8+4+8: bound counts by the file.
        if n_kv * MIN_KV_BYTES > size - r.pos or n_tensors * MIN_TENSOR_INFO_BYTES > size - r.pos:
            raise r.fail(f"header claims {n_kv} metadata entries and {n_tensors} tensors, more than the file can hold")
        metadata: dict[str, Any] = {}
        for _ in range(n_kv):
            key = r.string("metadata key", MAX_KEY_BYTES)
            if key in metadata:
                raise r.fail(f"metadata key {key!r} appears twice")
            vtype = r.u32(f"type of {key!r}")
            _check_type(r, key, vtype)
            metadata[key] = _value(r, vtype, key, depth=0)
        _check_vocabulary(r, metadata)
        tensors = _tensor_table(r, n_tensors, metadata)
    info = GGUFInfo(path=path, version=version, file_size=size, metadata=metadata, tensors=tensors,
                    data_offset=tensors[0].offset if tensors else r.pos)
    _check_architecture(info, check_arch=check_arch)
    return info


_TYPE_NAMES = {0: "uint8", 1: "int8", 2: "uint16", 3: "int16", 4: "uint32", 5: "int32", 6: "float32", 7: "bool",
               8: "string", 9: "array", 10: "uint64", 11: "int64", 12: "float64"}


def _check_type(r: _Reader, key: str, vtype: int) -> None:
    """Type confusion: a key llama.cpp reads as one type, stored as another."""
    want = EXPECTED_TYPES.get(key)
    if want is None:
        return
    etype = None
    if vtype == _ARRAY:
        r.need(4, f"element type of {key!r}")
        etype = struct.unpack_from("<I", r.buf, r.pos)[0]
    if (vtype, etype if want[1] is not None else None) != want:
        got = _TYPE_NAMES.get(vtype, f"type {vtype}") + (f" of {_TYPE_NAMES.get(etype, f'type {etype}')}" if etype is not None else "")
        wanted = _TYPE_NAMES[want[0]] + (f" of {_TYPE_NAMES[want[1]]}" if want[1] is not None else "")
        raise r.fail(f"metadata {key!r} is {got}, llama.cpp reads it as {wanted}")


def _length(v: Any) -> int | None:
    return len(v) if isinstance(v, list) else int(v) if isinstance(v, _Skipped) else None


def _check_vocabulary(r: _Reader, metadata: dict) -> None:
    """Per-token arrays must be as long as the vocabulary: llama.cpp indexes them by token id."""
    n_vocab = _length(metadata.get("tokenizer.ggml.tokens"))
    if n_vocab is None:
        return
    for key in VOCAB_PARALLEL:
        n = _length(metadata.get(key))
        if n is not None and n != n_vocab:
            raise r.fail(f"metadata {key!r} has {n} entries for a vocabulary of {n_vocab} tokens")


def _value(r: _Reader, vtype: int, key: str, *, depth: int) -> Any:
    if vtype == _BOOL:
        b = r.scalar("<B", 1, f"value of {key!r}")
        if b > 1:
            raise r.fail(f"metadata {key!r}: bool holds {b} (only 0 or 1)")
        return bool(b)
    if vtype in _SCALARS:
        fmt, n = _SCALARS[vtype]
        return r.scalar(fmt, n, f"value of {key!r}")
    if vtype == _STRING:
        return r.string(f"value of {key!r}")
    if vtype == _ARRAY:
        if depth >= MAX_ARRAY_DEPTH:
            raise r.fail(f"metadata {key!r}: arrays nested deeper than {MAX_ARRAY_DEPTH}")
        etype = r.u32(f"element type of {key!r}")
        count = r.u64(f"length of {key!r}")
        if count > INT64_MAX:
            raise r.fail(f"array {key!r} claims {count} elements (past int64)")
        if etype in _SCALARS:
            n = _SCALARS[etype][1]
            r.need(count * n, f"array {key!r} of {count} elements")
            if count <= 64:
                return [_value(r, etype, key, depth=depth + 1) for _ in range(count)]
            r.skip(count * n, f"array {key!r}")
            return _Skipped(count)
        if etype == _STRING:
            r.need(count * 8, f"array {key!r} of {count} elements")
            out = r.strings(count, f"array {key!r}", keep=key in KEPT_ARRAY_KEYS or count <= 64,
                            unique=key in UNIQUE_ARRAY_KEYS)
            return out if out is not None else _Skipped(count)
        if etype == _ARRAY:
            raise r.fail(f"metadata {key!r}: arrays of arrays (llama.cpp cannot read them)")
        raise r.fail(f"metadata {key!r}: unknown array element type {etype}")
    raise r.fail(f"metadata {key!r}: unknown value type {vtype}")


class _Skipped(int):
    """A long numeric array that was bounds-checked but not kept; its value is its length."""


def _tensor_table(r: _Reader, n_tensors: int, metadata: dict) -> list[TensorInfo]:
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if isinstance(alignment, bool) or not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1) \
            or alignment > 1 << 20:
        raise r.fail(f"general.alignment {alignment!r} is not a power of two up to 1 MiB")
    raw: list[tuple[str, tuple[int, ...], int, int]] = []
    names: set[str] = set()
    for i in range(n_tensors):
        name = r.string(f"name of tensor {i}", MAX_KEY_BYTES)
        if "\0" in name:  # ggml copies names as C strings: "a\0b" would become "a"
            raise r.fail(f"tensor {i} name {name[:80]!r} holds a NUL byte")
        if len(name.encode("utf-8", "surrogatepass")) > MAX_TENSOR_NAME:
            raise r.fail(f"tensor {i} name {name[:80]!r} is {len(name.encode('utf-8', 'surrogatepass'))} bytes "
                         f"(ggml holds at most {MAX_TENSOR_NAME})")
        n_dims = r.u32(f"dimension count of tensor {name!r}")
        if not 1 <= n_dims <= MAX_DIMS:
            raise r.fail(f"tensor {name!r} has {n_dims} dimensions (1..{MAX_DIMS} allowed)")
        shape = tuple(r.u64(f"shape of tensor {name!r}") for _ in range(n_dims))
        ttype = r.u32(f"type of tensor {name!r}")
        offset = r.u64(f"offset of tensor {name!r}")
        if name in names:
            raise r.fail(f"tensor {name!r} appears twice")
        names.add(name)
        raw.append((name, shape, ttype, offset))
    data_start = -(-r.pos // alignment) * alignment
    if raw and data_start > r.size:
        raise r.fail(f"tensor data would start at byte {data_start}, past the end of the file")
    tensors = []
    for name, shape, ttype, offset in raw:
        if ttype not in GGML_TYPES:
            raise r.fail(f"tensor {name!r} has unknown type id {ttype} (newer llama.cpp, or a damaged file)")
        tname, block, bsize = GGML_TYPES[ttype]
        n = 1
        for d in shape:
            if d > INT64_MAX:  # negative as ggml's int64_t ne[]
                raise r.fail(f"tensor {name!r} dimension {d} of shape {shape} is negative as int64")
            if d == 0 or d > 1 << 40:
                raise r.fail(f"tensor {name!r} has an impossible shape {shape}")
            n *= d
            if n > INT64_MAX:  # the CVE-2025-53630 / CVE-2026-27940 shape: a product that wraps in C
                raise r.fail(f"tensor {name!r} shape {shape}: element count overflows int64")
        if shape[0] % block:
            raise r.fail(f"tensor {name!r} ({tname}) row of {shape[0]} is not a multiple of its block size {block}")
        nbytes = n // block * bsize
        if nbytes > INT64_MAX:
            raise r.fail(f"tensor {name!r} shape {shape} ({tname}): byte size {nbytes} overflows int64")
        if offset > INT64_MAX:
            raise r.fail(f"tensor {name!r} data offset {offset} is negative as int64")
        if offset % alignment:
            raise r.fail(f"tensor {name!r} data offset {offset} is not aligned to {alignment}")
        start = data_start + offset
        if start + nbytes > r.size:
            raise ModelFileError(
                f"{r.path}: tensor {name!r} data ends at byte {start + nbytes} but the file has {r.size} bytes; "
                "the file is truncated",
                hint="the download or copy was cut short; fetch the model again and compare its sha256",
            )
        tensors.append(TensorInfo(name=name, shape=shape, type_name=tname, offset=start, nbytes=nbytes))
    ordered = sorted(tensors, key=lambda t: t.offset)
    for a, b in zip(ordered, ordered[1:]):
        if a.offset + a.nbytes > b.offset:
            raise r.fail(f"tensors {a.name!r} and {b.name!r} overlap")
    return tensors


def _check_architecture(info: GGUFInfo, *, check_arch: bool) -> None:
    arch = info.architecture
    if arch is None:
        raise ModelFileError(f"{info.path}: no general.architecture in the GGUF metadata; llama.cpp cannot load it",
                             hint="re-convert the model with llama.cpp's convert_hf_to_gguf.py")
    if not info.tensors:
        raise ModelFileError(f"{info.path}: the GGUF holds no tensors (a vocabulary-only file?)",
                             hint="give the model file itself, not a tokenizer-only GGUF")
    if check_arch and architecture_known(arch) is False:
        raise ModelFileError(
            f"{info.path}: architecture {arch!r} is not supported by the installed llama.cpp "
            f"(llama-cpp-python {_llama_cpp_version()})",
            hint="upgrade llama-cpp-python, or pick a model of a supported architecture (llama, qwen2, mistral, ...)",
        )


def _llama_cpp_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("llama_cpp_python")
    except metadata.PackageNotFoundError:
        return "not installed"


def architecture_known(arch: str) -> bool | None:
    """Whether the installed libllama knows `arch` (None when the library cannot be read).

    llama.cpp keeps its architecture names as a table of C strings, so a name the
    library knows appears NUL-terminated in its read-only data; the linker may
    store it as the tail of a longer string ("qwen2" inside "rwkv6qwen2"), so only
    the end is anchored. A rare false "known" only defers the error to llama.cpp's
    own clean refusal; a false "unknown" would block a good model.
    """
    blob = _libllama_bytes()
    if blob is None:
        return None
    if not arch or len(arch) > 64 or not arch.replace("-", "").replace("_", "").replace(".", "").isalnum():
        return False
    return arch.encode() + b"\0" in blob


@lru_cache(maxsize=1)
def _libllama_bytes() -> bytes | None:
    lib = _libllama()
    try:
        return lib.read_bytes() if lib else None
    except OSError:
        return None


def _libllama() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    pkg = Path(list(spec.submodule_search_locations)[0])
    for cand in sorted(pkg.rglob("*llama*")):
        if cand.is_file() and cand.name.startswith(("libllama.", "llama.")) and cand.suffix in (".so", ".dylib", ".dll"):
            return cand
    log.debug("libllama not found under %s; architecture check skipped", pkg)
    return None



def ensure_checked(path: Path) -> None:
    """`check_gguf` once per file version: the result is remembered by size, mtime, ctime and inode.

    Called by the engines before llama.cpp opens a GGUF, so even a file that
    never went through `bundle create` cannot crash the process from its header
    or its embedded chat templates.
    """
    from app.file_memo import memo_get, memo_put

    path = Path(path)
    st = path.stat()
    key, stamp = str(path.resolve()), [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    if memo_get("gguf_checked.json", key) == stamp:
        return
    check_embedded_templates(check_gguf(path))
    memo_put("gguf_checked.json", key, stamp)


TEMPLATE_KEY = "tokenizer.chat_template"


def embedded_templates(info: GGUFInfo) -> dict[str, str]:
    """Every chat template the GGUF carries (`tokenizer.chat_template` and its named variants): llama-cpp-python
    compiles each of them in-process when it loads the model."""
    return {k: v for k, v in info.metadata.items()
            if (k == TEMPLATE_KEY or k.startswith(TEMPLATE_KEY + ".")) and isinstance(v, str)}


def check_embedded_templates(info: GGUFInfo) -> None:
    """Compile and render each embedded template in the sandboxed child first (`app.llm.template_sandbox.
    render_in_child`): one that does not compile would make llama-cpp-python's loader raise a Jinja error,
    and one that escapes the sandbox, loops or balloons is refused before it runs in-process. A template
    that only refuses the sample conversation (`raise_exception`) is not a hazard and passes."""
    for key, template in embedded_templates(info).items():
        result = render_in_child(template, SAMPLE)
        if result.ok or result.kind == "raised":
            continue
        detail = result.error
        if result.kind in ("escape", "limit") or any(
                w in detail for w in ("TemplateSyntaxError", "RecursionError", "MemoryError", "used more memory")):
            raise ModelFileError(f"{info.path}: metadata {key!r} (a chat template of {len(template)} characters) "
                                 f"refused: {detail}",
                                 hint="the model file carries a broken or hostile chat template; use a GGUF from a "
                                      "trusted source")
