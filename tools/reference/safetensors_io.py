"""safetensors_io.py — a minimal safetensors reader/writer with numpy and struct.

Debian ships no python3-safetensors, so the reference reads and writes the format itself. The format: an 8-byte
little-endian header length, a JSON header ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, optional
"__metadata__": {str: str}}), then the raw little-endian bytes; offsets are relative to the end of the header.

read(path) -> (tensors, metadata): tensors maps names to numpy arrays in their stored dtype, except F16 and BF16,
which come back as float32 (numpy has no bfloat16; the conversion is exact). write(path, tensors, metadata) stores
each array as F32 unless a dtype ("F16", "BF16", "I64", ...) is given for it.
"""
import json
import struct

import numpy as np

# safetensors dtype name -> numpy dtype (little-endian). BF16 is handled by hand.
_NUMPY = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
    "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?",
}
_SIZE = {"BF16": 2, **{k: np.dtype(v).itemsize for k, v in _NUMPY.items()}}


def bf16_bits_to_f32(bits):
    """uint16 bfloat16 bit patterns -> float32 (the upper half of a float32: exact)."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16_bits(x):
    """float32 -> bfloat16 bits, round to nearest even (NaN kept quiet)."""
    b = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
    nan = np.isnan(np.asarray(x, dtype=np.float32))
    rounded = np.where(nan, (b >> 16) | 0x40, rounded)
    return rounded.astype(np.uint16)


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: {len(blob)} bytes, too short for a safetensors header")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"{path}: header length {n} runs past the end of the file ({len(blob)} bytes)")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = memoryview(blob)[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        dtype, shape = info["dtype"], [int(d) for d in info["shape"]]
        begin, end = (int(o) for o in info["data_offsets"])
        if dtype not in _SIZE:
            raise ValueError(f"{path}: tensor {name!r} has unknown dtype {dtype!r}")
        count = int(np.prod(shape)) if shape else 1
        if not (0 <= begin <= end <= len(data)) or end - begin != count * _SIZE[dtype]:
            raise ValueError(f"{path}: tensor {name!r} offsets [{begin}, {end}) do not fit shape {shape} {dtype} "
                             f"in a data section of {len(data)} bytes")
        raw = bytes(data[begin:end])
        if dtype == "BF16":
            arr = bf16_bits_to_f32(np.frombuffer(raw, dtype="<u2"))
        else:
            arr = np.frombuffer(raw, dtype=_NUMPY[dtype])
            if dtype == "F16":
                arr = arr.astype(np.float32)
        tensors[name] = arr.reshape(shape).copy()
    return tensors, metadata


def _encode(arr, dtype):
    if dtype == "BF16":
        return f32_to_bf16_bits(np.asarray(arr, dtype=np.float32)).tobytes()
    return np.ascontiguousarray(np.asarray(arr), dtype=_NUMPY[dtype]).tobytes()


def write(path, tensors, metadata=None, dtypes=None):
    """tensors: {name: array}; dtypes: {name: "F16" | "BF16" | "I64" | ...} (default F32)."""
    dtypes = dtypes or {}
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, arr in tensors.items():
        dtype = dtypes.get(name, "F32")
        raw = _encode(arr, dtype)
        header[name] = {"dtype": dtype, "shape": list(np.shape(arr)), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data section starts 8-byte aligned, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
