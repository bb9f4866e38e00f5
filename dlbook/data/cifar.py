"""Full CIFAR-10 from its official binary archive: download once, verify, parse (Part III, CNNs).

``cifar-10-binary.tar.gz`` is fetched with ``dlbook.data.download`` (SHA-256
verified, atomic writes) into ``<cache>/cifar10`` and kept compressed; the
batch files are read straight out of the tar in one streaming pass, nothing
is extracted to disk. Only the binary version is used: the "python version"
of CIFAR-10 is a pickle, and this package never unpickles downloaded data.

Binary layout (Krizhevsky 2009, and the dataset's web page): each ``.bin``
file is a run of 3,073-byte records, one per image: 1 label byte (0..9),
then 1,024 red, 1,024 green and 1,024 blue bytes, each plane a 32x32 image
in row-major order. The archive holds ``cifar-10-batches-bin/`` with
``data_batch_1.bin`` .. ``data_batch_5.bin`` (train, 10,000 records each)
and ``test_batch.bin`` (test, 10,000 records).

Reference: A. Krizhevsky (2009), "Learning Multiple Layers of Features from
Tiny Images", tech. report, University of Toronto.
"""

from __future__ import annotations

import os
import tarfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np

from .download import Opener, fetch

__all__ = [
    "load_cifar10",
    "CIFAR10_CLASSES",
    "CIFAR10_SHA256",
    "CIFAR10_MIRRORS",
    "CIFAR10_ARCHIVE",
]

CIFAR10_ARCHIVE = "cifar-10-binary.tar.gz"
CIFAR10_MIRRORS = ("https://www.cs.toronto.edu/~kriz/",)
# The official archive: 170,052,171 bytes, MD5 c32a1d4ab5d03f1284b67883e8d87530.
CIFAR10_SHA256: dict[str, str] = {
    CIFAR10_ARCHIVE: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
}
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)

SUBDIR = "cifar10"
BATCH_DIR = "cifar-10-batches-bin"
SPLIT_MEMBERS: dict[str, tuple[str, ...]] = {
    "train": tuple(f"{BATCH_DIR}/data_batch_{i}.bin" for i in range(1, 6)),
    "test": (f"{BATCH_DIR}/test_batch.bin",),
}
SPLITS = tuple(SPLIT_MEMBERS)
CHANNELS, SIDE = 3, 32
LABEL_BYTES = 1
PIXEL_BYTES = CHANNELS * SIDE * SIDE  # 3,072: R plane, G plane, B plane
RECORD_BYTES = LABEL_BYTES + PIXEL_BYTES  # 3,073
RECORDS_PER_FILE = 10_000
N_CLASSES = len(CIFAR10_CLASSES)
PIXEL_MAX = 255.0
# What a damaged .tar.gz raises while being read (BadGzipFile is an OSError).
ARCHIVE_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError)


def _check_member_name(name: str, archive: Path) -> None:
    """Reject names that would escape a directory if the archive were extracted."""
    parts = PurePosixPath(name).parts
    if name.startswith(("/", "\\")) or "\\" in name or ".." in parts or (parts and ":" in parts[0]):
        raise ValueError(f"load_cifar10: {archive} has an unsafe member name {name!r} "
                         "(absolute path or '..'); refusing to read it")


def _expected_bytes(name: str, size: int, records_per_file: int | None) -> None:
    """Check a batch file's size before reading it: whole records, the right count."""
    if records_per_file is not None:
        expected = records_per_file * RECORD_BYTES
        if size != expected:
            raise ValueError(
                f"load_cifar10: member {name!r} has the wrong size: expected {expected} bytes "
                f"({records_per_file} records of {RECORD_BYTES} bytes), got {size} bytes")
    elif size == 0 or size % RECORD_BYTES:
        below = size // RECORD_BYTES * RECORD_BYTES
        above = below + RECORD_BYTES
        nearest = f"{below} or {above}" if below else f"{above}"
        raise ValueError(
            f"load_cifar10: member {name!r} has the wrong size: expected a positive multiple "
            f"of {RECORD_BYTES} bytes ({nearest} bytes), got {size} bytes (a truncated record)")


def _read_members(archive: Path, wanted: tuple[str, ...],
                  records_per_file: int | None) -> dict[str, bytes]:
    """One streaming pass over the archive: validate every name, read the wanted files."""
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, mode="r|gz") as tar:
            for member in tar:
                _check_member_name(member.name, archive)
                if member.name not in wanted:
                    continue
                if member.name in found:
                    raise ValueError(f"load_cifar10: {archive} holds {member.name!r} twice")
                if not member.isfile():
                    raise ValueError(f"load_cifar10: member {member.name!r} of {archive} is "
                                     "not a regular file (a link or directory)")
                _expected_bytes(member.name, member.size, records_per_file)
                data = tar.extractfile(member).read()
                if len(data) != member.size:
                    raise ValueError(f"load_cifar10: member {member.name!r} is truncated: "
                                     f"expected {member.size} bytes, got {len(data)} bytes")
                found[member.name] = data
    except ARCHIVE_ERRORS as err:
        raise ValueError(f"load_cifar10: {archive} is not a valid tar.gz archive "
                         f"(truncated or damaged): {type(err).__name__}: {err}") from err
    missing = [name for name in wanted if name not in found]
    if missing:
        raise ValueError(f"load_cifar10: {archive} lacks the member(s) {missing}; "
                         f"expected the layout {BATCH_DIR}/data_batch_1..5.bin, test_batch.bin")
    return found


def _parse_batch(name: str, data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Bytes of one batch file -> (images (n, 3, 32, 32) uint8, labels (n,) uint8)."""
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0]
    if labels.size and labels.max() >= N_CLASSES:
        raise ValueError(f"load_cifar10: member {name!r} has a label of {labels.max()}: "
                         f"expected labels in 0..{N_CLASSES - 1}")
    images = records[:, LABEL_BYTES:].reshape(-1, CHANNELS, SIDE, SIDE)
    return images, labels


def load_cifar10(
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = True,
    normalize: bool = True,
    *,
    checksums: dict[str, str] | None = None,
    urlopen: Opener | None = None,
    progress: bool = True,
    records_per_file: int | None = RECORDS_PER_FILE,
) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10, 32x32 colour images in 10 classes, 50,000 train / 10,000 test (Part III, CNNs).

    Shapes:
        X: (N, 3, 32, 32) float32 in [0, 1], channels R, G, B (NCHW, as in
           PyTorch); uint8 0..255 with ``normalize=False``
        y: (N,) int64 in 0..9, names in ``CIFAR10_CLASSES``

    The official binary archive (about 170 MB, from Krizhevsky 2009,
    "Learning Multiple Layers of Features from Tiny Images") is cached in
    ``<root>/cifar10`` (``root`` defaults to
    ``dlbook.data.download.cache_dir()``), verified against ``CIFAR10_SHA256``
    (or ``checksums``, for tests with fixture files) and read without
    extracting it. Each batch file must hold exactly ``records_per_file``
    records (10,000 in the real data); ``records_per_file=None`` accepts any
    positive whole number of 3,073-byte records (small fixture archives).
    A truncated record is always an error.

    Raises:
        ValueError: bad ``split``; an unsafe member name, a missing,
            duplicated or wrongly sized batch file, a label outside 0..9, or
            a damaged archive.
        ChecksumError, DownloadError, FileNotFoundError: from ``fetch``.
    """
    if split not in SPLITS:
        raise ValueError(f"load_cifar10: expected split in {SPLITS}, got {split!r}")
    if records_per_file is not None and (not isinstance(records_per_file, int)
                                         or records_per_file < 1):
        raise ValueError("load_cifar10: expected records_per_file a positive int or None, "
                         f"got {records_per_file!r}")
    sums = CIFAR10_SHA256 if checksums is None else checksums
    if CIFAR10_ARCHIVE not in sums:
        raise ValueError(f"load_cifar10: expected a sha256 for {CIFAR10_ARCHIVE!r} in the "
                         f"checksums, got keys {sorted(sums)}")
    urls = [mirror + CIFAR10_ARCHIVE for mirror in CIFAR10_MIRRORS]
    archive = fetch(urls, CIFAR10_ARCHIVE, sums[CIFAR10_ARCHIVE], SUBDIR, root=root,
                    download=download, urlopen=urlopen, progress=progress)
    wanted = SPLIT_MEMBERS[split]
    data = _read_members(archive, wanted, records_per_file)
    batches = [_parse_batch(name, data.pop(name)) for name in wanted]  # file order
    images = np.concatenate([images for images, _ in batches])
    labels = np.concatenate([labels for _, labels in batches]).astype(np.int64)
    if not normalize:
        return images, labels
    X = images.astype(np.float32)
    np.divide(X, np.float32(PIXEL_MAX), out=X)
    return X, labels
