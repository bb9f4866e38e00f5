"""The IDX file format of MNIST and Fashion-MNIST (used from chapter 4 on).

An IDX file is a 4-byte magic number ``00 00 <type> <ndim>``, then ``ndim``
big-endian uint32 dimension sizes, then the values in C order, big-endian.
Files may be gzipped (detected from the gzip magic bytes, not the name).
This reader never unpickles anything: it only reinterprets raw bytes.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "write_idx", "IDX_DTYPES"]

# IDX type code -> big-endian numpy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),  # unsigned byte
    0x09: np.dtype(">i1"),  # signed byte
    0x0B: np.dtype(">i2"),  # short
    0x0C: np.dtype(">i4"),  # int
    0x0D: np.dtype(">f4"),  # float
    0x0E: np.dtype(">f8"),  # double
}
_TYPE_CODES = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
MAGIC_BYTES = 4  # 00 00 <type code> <ndim>
DIM_BYTES = 4  # each dimension is a big-endian uint32
MAX_DIM_SIZE = 2**32 - 1
GZIP_MAGIC = b"\x1f\x8b"
GZIP_MTIME = 0  # fixed timestamp: the same array always gives the same bytes


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"read_idx: {path} is not a valid gzip file "
                         f"(truncated or damaged): {err}") from err


def _parse_header(data: bytes, path: Path) -> tuple[np.dtype, tuple[int, ...], int]:
    """Return (dtype, shape, header length) or raise ValueError naming the file."""
    if len(data) < MAGIC_BYTES:
        raise ValueError(f"read_idx: {path} is too short for an IDX header: "
                         f"expected at least {MAGIC_BYTES} bytes, found {len(data)}")
    zero, code, ndim = struct.unpack(">HBB", data[:MAGIC_BYTES])
    if zero != 0 or code not in IDX_DTYPES:
        raise ValueError(
            f"read_idx: {path} has a bad magic number {data[:MAGIC_BYTES].hex()}: expected "
            f"00 00 then a type code in {[hex(c) for c in IDX_DTYPES]} and ndim"
        )
    if ndim == 0:
        raise ValueError(f"read_idx: {path} declares ndim=0: expected at least 1 dimension")
    header = MAGIC_BYTES + DIM_BYTES * ndim
    if len(data) < header:
        raise ValueError(f"read_idx: {path} is truncated in its header: expected "
                         f"{header} bytes for {ndim} dimensions, found {len(data)}")
    shape = struct.unpack(f">{ndim}I", data[MAGIC_BYTES:header])
    return IDX_DTYPES[code], tuple(int(s) for s in shape), header


def read_idx(path: str | os.PathLike, expected_ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (plain or gzipped) into a native-endian numpy array.

    The payload length must match the header exactly; a truncated, padded or
    malformed file raises ``ValueError`` naming the file, what was expected
    and what was found. ``expected_ndim`` additionally checks the rank
    (3 for image files, 1 for label files).

    Shapes:
        the ``ndim`` sizes stored in the header, e.g. (60000, 28, 28) uint8
    """
    path = Path(path)
    data = _read_bytes(path)
    dtype, shape, header = _parse_header(data, path)
    if expected_ndim is not None and len(shape) != expected_ndim:
        raise ValueError(f"read_idx: {path} has {len(shape)} dimensions {shape}: "
                         f"expected {expected_ndim}")
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found != expected:
        kind = "truncated" if found < expected else "longer than its header says"
        raise ValueError(f"read_idx: {path} is {kind}: shape {shape} of {dtype.name} needs "
                         f"{expected} payload bytes, found {found}")
    values = np.frombuffer(data, dtype=dtype, offset=header)
    return values.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file, gzipped when the name ends in ``.gz``.

    Supported dtypes: uint8, int8, int16, int32, float32, float64. Used by the
    tests to build fixture files in the real format.

    Shapes:
        any array with 1..255 dimensions, each of size < 2**32
    """
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _TYPE_CODES:
        raise TypeError(f"write_idx: expected dtype in {sorted(str(d) for d in _TYPE_CODES)}, "
                        f"got {array.dtype}")
    if not 1 <= array.ndim <= 255 or any(s > MAX_DIM_SIZE for s in array.shape):
        raise ValueError(f"write_idx: expected 1..255 dimensions of size < 2**32, "
                         f"got shape {array.shape}")
    code = _TYPE_CODES[native]
    header = struct.pack(">HBB", 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    payload = np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    data = header + payload
    path = Path(path)
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=GZIP_MTIME)
    path.write_bytes(data)
    return path
