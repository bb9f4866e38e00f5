"""The CIFAR-10 binary loader on tiny fixture archives made here, fully offline.

Each fixture is a real-layout ``cifar-10-binary.tar.gz`` (``cifar-10-batches-bin/``
with data_batch_1..5.bin and test_batch.bin) holding 3 records per file.
"""

import hashlib
import io
import re
import tarfile
import urllib.error
import urllib.request

import numpy as np
import pytest

from dlbook.data import ChecksumError, DownloadError
from dlbook.data.cifar import (
    CIFAR10_ARCHIVE,
    CIFAR10_CLASSES,
    CIFAR10_MIRRORS,
    CIFAR10_SHA256,
    RECORD_BYTES,
    SPLIT_MEMBERS,
    load_cifar10,
)

N = 3  # records per batch file
URL = CIFAR10_MIRRORS[0] + CIFAR10_ARCHIVE
TRAIN_MEMBERS, (TEST_MEMBER,) = SPLIT_MEMBERS["train"], SPLIT_MEMBERS["test"]


@pytest.fixture(autouse=True)
def no_real_network(monkeypatch):
    def refuse(url, *args, **kwargs):
        raise AssertionError(f"test tried to reach the network: {url}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def forbidden_opener(url, timeout=None):
    raise AssertionError(f"the cache should have been used, not {url}")


def planes(batch: int, n: int = N) -> np.ndarray:
    """Known uint8 images (n, 3, 32, 32): R, G, B planes differ, rows differ from columns."""
    record = np.arange(n)[:, None, None, None]
    channel = np.arange(3)[None, :, None, None]
    row = np.arange(32)[None, None, :, None]
    col = np.arange(32)[None, None, None, :]
    values = 100 * channel + 3 * row + col + 7 * record + 11 * batch
    return (values % 256).astype(np.uint8)


def labels_for(batch: int, n: int = N) -> np.ndarray:
    return ((np.arange(n) + batch) % 10).astype(np.uint8)


def batch_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """The real record layout: label byte, then R, G, B planes, row-major."""
    flat = images.reshape(len(images), -1)
    return np.concatenate([labels[:, None], flat], axis=1).astype(np.uint8).tobytes()


def default_members() -> dict[str, bytes]:
    members = {name: batch_bytes(planes(i), labels_for(i))
               for i, name in enumerate(TRAIN_MEMBERS + (TEST_MEMBER,))}
    members["cifar-10-batches-bin/batches.meta.txt"] = "\n".join(CIFAR10_CLASSES).encode()
    return members


def make_archive(members: dict[str, bytes] | None = None, symlinks=()) -> bytes:
    """A .tar.gz with a directory entry, the given files and optional symlinks."""
    members = default_members() if members is None else members
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        folder = tarfile.TarInfo("cifar-10-batches-bin")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in symlinks:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buffer.getvalue()


def sums_for(data: bytes) -> dict[str, str]:
    return {CIFAR10_ARCHIVE: hashlib.sha256(data).hexdigest()}


def put_in_cache(root, data: bytes) -> dict[str, str]:
    (root / "cifar10").mkdir(parents=True, exist_ok=True)
    (root / "cifar10" / CIFAR10_ARCHIVE).write_bytes(data)
    return sums_for(data)


def load_cached(root, data: bytes, split="train", **kwargs):
    sums = put_in_cache(root, data)
    kwargs.setdefault("records_per_file", N)
    return load_cifar10(split, root=root, checksums=sums, urlopen=forbidden_opener,
                        progress=False, **kwargs)


def files_under(root) -> list[str]:
    """Every file (temp files included) under root, relative, sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# ---- shapes, scaling, channel order, labels ------------------------------------------

def test_train_and_test_shapes_dtypes_and_scaling(tmp_path):
    archive = make_archive()
    X, y = load_cached(tmp_path, archive, "train")
    assert X.shape == (5 * N, 3, 32, 32) and X.dtype == np.float32
    assert y.shape == (5 * N,) and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() <= 1.0 and X.flags.writeable
    raw = np.concatenate([planes(i) for i in range(5)])
    np.testing.assert_array_equal(X, raw / np.float32(255.0))
    np.testing.assert_array_equal(y, np.concatenate([labels_for(i) for i in range(5)]))
    X_test, y_test = load_cached(tmp_path, archive, "test", normalize=False)
    assert X_test.dtype == np.uint8 and X_test.shape == (N, 3, 32, 32)
    np.testing.assert_array_equal(X_test, planes(5))
    np.testing.assert_array_equal(y_test, labels_for(5))


def test_channel_planes_land_in_rgb_and_rows_are_row_major(tmp_path):
    images = np.zeros((N, 3, 32, 32), dtype=np.uint8)
    images[:, 0], images[:, 1], images[:, 2] = 10, 20, 30  # R, G, B planes
    images[1, 2, 0, 5] = 250  # blue, row 0, column 5 of the second record
    raw = batch_bytes(images, np.array([3, 1, 4], dtype=np.uint8))
    assert raw[RECORD_BYTES + 1 + 2048 + 5] == 250  # where the file format puts it
    members = default_members()
    members[TEST_MEMBER] = raw
    X, y = load_cached(tmp_path, make_archive(members), "test", normalize=False)
    assert (X[:, 0] == 10).all() and (X[:, 1] == 20).all()
    assert X[1, 2, 0, 5] == 250 and (X[:, 2] == 30).sum() == N * 1024 - 1
    np.testing.assert_array_equal(y, [3, 1, 4])
    X01, _ = load_cached(tmp_path, make_archive(members), "test")
    np.testing.assert_allclose(X01[0, :, 0, 0], np.array([10, 20, 30]) / 255.0, rtol=1e-6)


def test_train_batches_in_file_order_whatever_the_tar_order(tmp_path):
    members = default_members()
    shuffled = {name: members[name] for name in reversed(list(members))}
    _, y = load_cached(tmp_path, make_archive(shuffled), "train", normalize=False)
    np.testing.assert_array_equal(y, np.concatenate([labels_for(i) for i in range(5)]))


def test_lenient_record_count_and_default_strict_count(tmp_path):
    archive = make_archive()
    X, _ = load_cached(tmp_path, archive, "test", records_per_file=None)
    assert X.shape == (N, 3, 32, 32)
    with pytest.raises(ValueError, match=re.escape(f"'{TEST_MEMBER}'") + ".*expected 30730000 bytes"
                       rf".*got {N * RECORD_BYTES} bytes"):
        load_cached(tmp_path, archive, "test", records_per_file=10_000)


# ---- downloading ---------------------------------------------------------------------

def test_download_with_fake_opener_then_cache(tmp_path):
    archive = make_archive()
    calls = []

    def opener(url, timeout=None):
        calls.append(url)
        return io.BytesIO(archive)

    cache = tmp_path / "cache"
    X, _ = load_cifar10("test", root=cache, checksums=sums_for(archive), urlopen=opener,
                        progress=False, records_per_file=N)
    assert X.shape == (N, 3, 32, 32) and calls == [URL]
    assert URL == "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    assert files_under(cache) == [f"cifar10/{CIFAR10_ARCHIVE}"]  # nothing extracted
    load_cifar10("train", root=cache, checksums=sums_for(archive), urlopen=forbidden_opener,
                 progress=False, records_per_file=N)


def test_truncated_download_is_an_error_and_leaves_nothing(tmp_path):
    archive = make_archive()
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        load_cifar10("test", root=cache, checksums=sums_for(archive), progress=False,
                     urlopen=lambda url, timeout=None: io.BytesIO(archive[: len(archive) // 2]))
    assert files_under(cache) == []


def test_truncated_archive_with_matching_checksum_is_a_value_error(tmp_path):
    short = make_archive()[:-200]
    with pytest.raises(ValueError, match="not a valid tar.gz archive"):
        load_cached(tmp_path, short, "test")


def test_wrong_checksum_raises_and_cache_stays_clean(tmp_path):
    archive = make_archive()
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError):
        load_cifar10("test", root=cache, checksums={CIFAR10_ARCHIVE: "0" * 64}, progress=False,
                     urlopen=lambda url, timeout=None: io.BytesIO(archive))
    assert files_under(cache) == []


def test_offline_gives_a_clear_download_error(tmp_path):
    def offline(url, timeout=None):
        raise urllib.error.URLError("no route to host")

    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="offline") as info:
        load_cifar10("train", root=cache, urlopen=offline, progress=False)
    assert URL in str(info.value) and CIFAR10_SHA256[CIFAR10_ARCHIVE] in str(info.value)
    assert files_under(cache) == []


def test_corrupt_cached_archive_is_refetched(tmp_path):
    archive = make_archive()
    sums = put_in_cache(tmp_path, archive)
    damaged = bytearray(archive)
    damaged[len(archive) // 2] ^= 0xFF
    (tmp_path / "cifar10" / CIFAR10_ARCHIVE).write_bytes(bytes(damaged))
    calls = []

    def opener(url, timeout=None):
        calls.append(url)
        return io.BytesIO(archive)

    with pytest.warns(UserWarning, match="is corrupt"):
        X, _ = load_cifar10("test", root=tmp_path, checksums=sums, urlopen=opener,
                            progress=False, records_per_file=N)
    assert X.shape == (N, 3, 32, 32) and calls == [URL]
    assert (tmp_path / "cifar10" / CIFAR10_ARCHIVE).read_bytes() == archive


def test_real_checksum_and_classes(tmp_path):
    assert re.fullmatch(r"[0-9a-f]{64}", CIFAR10_SHA256[CIFAR10_ARCHIVE])
    assert len(CIFAR10_CLASSES) == len(set(CIFAR10_CLASSES)) == 10
    assert CIFAR10_CLASSES[0] == "airplane" and CIFAR10_CLASSES[-1] == "truck"
    put_in_cache(tmp_path, make_archive())
    with pytest.raises(ChecksumError, match="is corrupt"):
        load_cifar10("test", root=tmp_path, download=False, urlopen=forbidden_opener)


# ---- malformed archives ----------------------------------------------------------------

@pytest.mark.parametrize("evil", [
    "../evil.bin", "/tmp/evil.bin", "cifar-10-batches-bin/../../evil.bin", "C:\\evil.bin",
])
def test_path_traversal_member_is_rejected(tmp_path, evil):
    members = default_members()
    members[evil] = b"x"
    with pytest.raises(ValueError, match="unsafe member name " + re.escape(repr(evil))):
        load_cached(tmp_path, make_archive(members), "test")
    assert files_under(tmp_path) == [f"cifar10/{CIFAR10_ARCHIVE}"]


@pytest.mark.parametrize("records_per_file", [N, None])
def test_truncated_record_names_member_and_sizes(tmp_path, records_per_file):
    members = default_members()
    name = TRAIN_MEMBERS[2]
    members[name] = members[name][:-1]
    size = N * RECORD_BYTES
    pattern = re.escape(f"'{name}'") + rf".*expected .*{size} bytes.*got {size - 1} bytes"
    with pytest.raises(ValueError, match=pattern):
        load_cached(tmp_path, make_archive(members), "train", records_per_file=records_per_file)


def test_label_outside_range_is_rejected(tmp_path):
    members = default_members()
    members[TEST_MEMBER] = batch_bytes(planes(0), np.array([0, 10, 2], dtype=np.uint8))
    with pytest.raises(ValueError, match=re.escape(f"'{TEST_MEMBER}' has a label of 10: ")):
        load_cached(tmp_path, make_archive(members), "test")


def test_missing_duplicate_and_linked_members_are_rejected(tmp_path):
    members = default_members()
    del members[TRAIN_MEMBERS[4]]
    with pytest.raises(ValueError, match="lacks the member.*data_batch_5.bin"):
        load_cached(tmp_path, make_archive(members), "train")
    X, _ = load_cached(tmp_path, make_archive(members), "test")  # test split does not need it
    assert len(X) == N
    twice = make_archive(members, symlinks=[(TEST_MEMBER, "data_batch_1.bin")])
    with pytest.raises(ValueError, match="twice"):
        load_cached(tmp_path, twice, "test")
    linked = make_archive(members, symlinks=[(TRAIN_MEMBERS[4], "data_batch_1.bin")])
    with pytest.raises(ValueError, match="not a regular file"):
        load_cached(tmp_path, linked, "train")


@pytest.mark.parametrize("kwargs, message", [
    ({"split": "val"}, r"expected split in \('train', 'test'\), got 'val'"),
    ({"records_per_file": 0}, "records_per_file a positive int or None, got 0"),
    ({"checksums": {"other.tar.gz": "0" * 64}}, "expected a sha256 for 'cifar-10-binary.tar.gz'"),
])
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_cifar10(root=tmp_path, urlopen=forbidden_opener, **kwargs)
