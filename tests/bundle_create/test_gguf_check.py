"""GGUF validation before llama.cpp sees a file: truncated, garbage and hostile files get one clear line."""

from __future__ import annotations

import os
import struct

import pytest

from app.llm.gguf_check import GGML_TYPES, ModelFileError, check_gguf
from tests.bundle_create.conftest import write_gguf


def _one_line(exc: pytest.ExceptionInfo) -> str:
    first = str(exc.value).splitlines()[0]
    assert "Traceback" not in first
    return first


def test_small_valid_gguf_passes(tiny_gguf):
    info = check_gguf(tiny_gguf)
    assert info.architecture == "llama" and info.version == 3
    assert [t.name for t in info.tensors] == ["blk.0.weight", "blk.1.weight"]
    assert info.tensors[-1].offset + info.tensors[-1].nbytes <= info.file_size
    assert info.metadata["tokenizer.ggml.tokens"][3] == "<|im_end|>"


def test_real_smollm2_passes(smollm2_gguf):
    info = check_gguf(smollm2_gguf)
    assert info.architecture == "llama"
    assert info.arch_value("context_length") >= 2048
    assert "im_start" in info.metadata["tokenizer.chat_template"]
    assert len(info.metadata["tokenizer.ggml.tokens"]) > 40000
    assert info.tensor_bytes > 0.9 * info.file_size - info.data_offset


def test_truncated_file_refused(tiny_gguf):
    os.truncate(tiny_gguf, tiny_gguf.stat().st_size - 100)
    with pytest.raises(ModelFileError) as exc:
        check_gguf(tiny_gguf)
    assert "truncated" in _one_line(exc) and "tiny.gguf" in _one_line(exc)


def test_truncated_inside_header_refused(tiny_gguf):
    os.truncate(tiny_gguf, 200)
    with pytest.raises(ModelFileError, match="file ends first|truncated"):
        check_gguf(tiny_gguf)


def test_bad_magic_refused(tiny_gguf):
    with open(tiny_gguf, "r+b") as fh:
        fh.write(b"GGML")
    with pytest.raises(ModelFileError) as exc:
        check_gguf(tiny_gguf)
    assert "bad magic" in _one_line(exc)


def test_garbage_refused(tmp_path):
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(ModelFileError, match="bad magic"):
        check_gguf(junk)
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(ModelFileError, match="too small"):
        check_gguf(empty)


def test_unsupported_version_refused(tiny_gguf):
    with open(tiny_gguf, "r+b") as fh:
        fh.seek(4)
        fh.write(struct.pack("<I", 99))
    with pytest.raises(ModelFileError, match="version 99"):
        check_gguf(tiny_gguf)


def test_hostile_counts_refused(tiny_gguf):
    """A header claiming 2^60 tensors must be refused before anything is allocated."""
    with open(tiny_gguf, "r+b") as fh:
        fh.seek(8)
        fh.write(struct.pack("<Q", 1 << 60))
    with pytest.raises(ModelFileError, match="more than the file can hold"):
        check_gguf(tiny_gguf)


def test_hostile_string_length_refused(tiny_gguf):
    """The first key's length field says 2^62 bytes."""
    with open(tiny_gguf, "r+b") as fh:
        fh.seek(24)
        fh.write(struct.pack("<Q", 1 << 62))
    with pytest.raises(ModelFileError, match="claims|file ends first"):
        check_gguf(tiny_gguf)


def test_tensor_offset_past_end_refused(tmp_path):
    """A tensor whose data offset points beyond the file (the classic out-of-bounds read)."""
    path = write_gguf(tmp_path / "off.gguf")
    info = check_gguf(path)
    data = bytearray(path.read_bytes())
    name = info.tensors[-1].name.encode()
    at = data.index(name) + len(name) + 4 + 8 * 2 + 4  # n_dims, two dims, type -> offset
    struct.pack_into("<Q", data, at, 1 << 40)
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="truncated|ends at byte"):
        check_gguf(path)


def test_unknown_tensor_type_refused(tmp_path):
    path = write_gguf(tmp_path / "type.gguf")
    info = check_gguf(path)
    data = bytearray(path.read_bytes())
    name = info.tensors[0].name.encode()
    at = data.index(name) + len(name) + 4 + 8 * 2
    struct.pack_into("<I", data, at, 250)
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="unknown type id 250"):
        check_gguf(path)


def test_unknown_architecture_refused(tmp_path):
    path = write_gguf(tmp_path / "arch.gguf", arch="notanarch")
    with pytest.raises(ModelFileError) as exc:
        check_gguf(path)
    assert "architecture 'notanarch' is not supported by the installed llama.cpp" in _one_line(exc)
    assert check_gguf(path, check_arch=False).architecture == "notanarch"


def test_no_tensors_refused(tmp_path):
    path = write_gguf(tmp_path / "vocab.gguf", n_tensors=0)
    with pytest.raises(ModelFileError, match="no tensors"):
        check_gguf(path)


def test_type_table_matches_gguf_package():
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    for tid, (name, block, size) in GGML_TYPES.items():
        try:
            qt = GGMLQuantizationType(tid)
        except ValueError:
            continue
        assert qt.name == name
        assert GGML_QUANT_SIZES[qt] == (block, size), name
