"""IDX parsing and the MNIST / Fashion-MNIST loaders on fixture files made here."""

import gzip
import hashlib
import io
import re
import urllib.request

import numpy as np
import pytest

import dlbook.data.mnist as mnist_module
from dlbook.data import (
    FASHION_MNIST_SHA256,
    MNIST_SHA256,
    ChecksumError,
    load_fashion_mnist,
    load_mnist,
    read_idx,
    write_idx,
)
from dlbook.data.mnist import FASHION_MNIST_MIRRORS, MNIST_MIRRORS, SPLIT_FILES

N_TRAIN, N_TEST = 12, 5


@pytest.fixture(autouse=True)
def no_real_network(monkeypatch):
    def refuse(url, *args, **kwargs):
        raise AssertionError(f"test tried to reach the network: {url}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def fake_images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


def write_fixture_set(directory, seed: int = 0) -> dict[str, str]:
    """Write the four MNIST-format gz files into directory; return their sha256."""
    directory.mkdir(parents=True, exist_ok=True)
    sums = {}
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        images_name, labels_name = SPLIT_FILES[split]
        write_idx(directory / images_name, fake_images(n, seed))
        write_idx(directory / labels_name, ((np.arange(n) + seed) % 10).astype(np.uint8))
        for name in (images_name, labels_name):
            sums[name] = hashlib.sha256((directory / name).read_bytes()).hexdigest()
    return sums


# ---- IDX round trips ---------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip_ubyte_images_and_labels(tmp_path, suffix):
    images = fake_images(N_TRAIN, 1)
    labels = (np.arange(N_TRAIN) % 10).astype(np.uint8)
    read_images = read_idx(write_idx(tmp_path / f"i-idx3-ubyte{suffix}", images), expected_ndim=3)
    read_labels = read_idx(write_idx(tmp_path / f"l-idx1-ubyte{suffix}", labels), expected_ndim=1)
    assert read_images.dtype == np.uint8 and read_images.shape == (N_TRAIN, 28, 28)
    np.testing.assert_array_equal(read_images, images)
    np.testing.assert_array_equal(read_labels, labels)
    raw = (tmp_path / f"l-idx1-ubyte{suffix}").read_bytes()
    raw = gzip.decompress(raw) if suffix else raw
    assert raw[:8] == b"\x00\x00\x08\x01" + N_TRAIN.to_bytes(4, "big")  # the real layout


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip_other_types(tmp_path, dtype):
    array = (np.arange(24) - 12).astype(dtype).reshape(2, 3, 4)
    back = read_idx(write_idx(tmp_path / "a.idx", array))
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)


def test_gzip_detected_by_content_not_name(tmp_path):
    path = write_idx(tmp_path / "labels.gz", np.arange(7, dtype=np.uint8))
    renamed = path.rename(tmp_path / "labels.idx")
    np.testing.assert_array_equal(read_idx(renamed), np.arange(7))


def test_write_idx_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="write_idx: expected dtype in .* got int64"):
        write_idx(tmp_path / "x.idx", np.arange(3, dtype=np.int64))


# ---- malformed IDX files -------------------------------------------------------------

def plain_images_file(tmp_path, name="imgs-idx3-ubyte"):
    return write_idx(tmp_path / name, fake_images(3, 0))


def test_truncated_payload(tmp_path):
    path = plain_images_file(tmp_path)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".* is truncated: .* needs 2352 payload bytes, found 2351"):
        read_idx(path)


def test_trailing_bytes(tmp_path):
    path = plain_images_file(tmp_path)
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(ValueError, match="longer than its header says"):
        read_idx(path)


def test_truncated_gzip(tmp_path):
    path = write_idx(tmp_path / "imgs.gz", fake_images(3, 0))
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ValueError, match=re.escape(str(path)) + " is not a valid gzip file"):
        read_idx(path)


@pytest.mark.parametrize("magic, message", [
    (b"\x01\x00\x08\x03", "bad magic number 01000803"),
    (b"\x00\x00\x07\x03", "bad magic number 00000703"),
    (b"\x00\x00\x08\x00", "ndim=0"),
])
def test_wrong_magic(tmp_path, magic, message):
    path = plain_images_file(tmp_path)
    path.write_bytes(magic + path.read_bytes()[4:])
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + message):
        read_idx(path)


def test_wrong_ndim_byte_is_caught_by_payload_length(tmp_path):
    path = plain_images_file(tmp_path)
    data = bytearray(path.read_bytes())
    data[3] = 2  # claims (3, 28) instead of (3, 28, 28)
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=re.escape(str(path)) + " is longer than its header says"):
        read_idx(path)


def test_wrong_ndim_for_its_role(tmp_path):
    path = plain_images_file(tmp_path)
    with pytest.raises(ValueError, match=re.escape(str(path)) + r" has 3 dimensions \(3, 28, 28\): expected 1"):
        read_idx(path, expected_ndim=1)


@pytest.mark.parametrize("data, message", [
    (b"\x00\x00", "too short for an IDX header: expected at least 4 bytes, found 2"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x03", "truncated in its header: expected 16 bytes"),
])
def test_header_too_short(tmp_path, data, message):
    path = tmp_path / "short.idx"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message):
        read_idx(path)


# ---- loaders on a fixture root -----------------------------------------------------------

def test_load_mnist_from_fixture_root(tmp_path):
    sums = write_fixture_set(tmp_path / "mnist", seed=0)
    X, y = load_mnist("train", root=tmp_path, checksums=sums)
    assert X.shape == (N_TRAIN, 28, 28) and X.dtype == np.float32
    assert y.shape == (N_TRAIN,) and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() <= 1.0
    np.testing.assert_allclose(X * 255.0, fake_images(N_TRAIN, 0), atol=1e-4)
    np.testing.assert_array_equal(y, np.arange(N_TRAIN) % 10)
    X_raw, _ = load_mnist("test", root=tmp_path, normalize=False, checksums=sums)
    assert X_raw.dtype == np.uint8 and X_raw.shape == (N_TEST, 28, 28)


def test_load_mnist_with_patched_module_table(tmp_path, monkeypatch):
    sums = write_fixture_set(tmp_path / "mnist", seed=0)
    for name, sha in sums.items():
        monkeypatch.setitem(mnist_module.MNIST_SHA256, name, sha)
    X, _ = load_mnist("test", root=tmp_path)
    assert X.shape == (N_TEST, 28, 28)


def test_real_checksums_reject_fixtures(tmp_path):
    write_fixture_set(tmp_path / "mnist")
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz is corrupt"):
        load_mnist("train", root=tmp_path, download=False)  # default table: real sha256


def test_checksum_tables_are_real_and_distinct():
    for table in (MNIST_SHA256, FASHION_MNIST_SHA256):
        assert sorted(table) == sorted(name for pair in SPLIT_FILES.values() for name in pair)
        assert all(re.fullmatch(r"[0-9a-f]{64}", sha) for sha in table.values())
    assert not set(MNIST_SHA256.values()) & set(FASHION_MNIST_SHA256.values())


def test_fashion_mnist_uses_its_own_files(tmp_path):
    mnist_sums = write_fixture_set(tmp_path / "mnist", seed=0)
    with pytest.raises(FileNotFoundError, match="fashion-mnist"):
        load_fashion_mnist("train", root=tmp_path, download=False, checksums=mnist_sums)
    fashion_sums = write_fixture_set(tmp_path / "fashion-mnist", seed=3)
    X_f, y_f = load_fashion_mnist("train", root=tmp_path, checksums=fashion_sums)
    X_m, _ = load_mnist("train", root=tmp_path, checksums=mnist_sums)
    assert X_f.shape == X_m.shape and not np.array_equal(X_f, X_m)
    np.testing.assert_array_equal(y_f, (np.arange(N_TRAIN) + 3) % 10)


@pytest.mark.parametrize("loader, mirrors, subdir", [
    (load_mnist, MNIST_MIRRORS, "mnist"),
    (load_fashion_mnist, FASHION_MNIST_MIRRORS, "fashion-mnist"),
])
def test_loader_downloads_from_its_mirrors(tmp_path, loader, mirrors, subdir):
    served = tmp_path / "server"
    sums = write_fixture_set(served, seed=5)
    calls = []

    def opener(url, timeout=None):
        calls.append(url)
        return io.BytesIO((served / url.rsplit("/", 1)[-1]).read_bytes())

    X, y = loader("test", root=tmp_path / "cache", checksums=sums, urlopen=opener, progress=False)
    assert X.shape == (N_TEST, 28, 28)
    assert calls == [mirrors[0] + name for name in SPLIT_FILES["test"]]
    assert sorted(p.name for p in (tmp_path / "cache" / subdir).iterdir()) == sorted(SPLIT_FILES["test"])


def test_loader_rejects_bad_split_and_inconsistent_files(tmp_path):
    sums = write_fixture_set(tmp_path / "mnist")
    with pytest.raises(ValueError, match=r"load_mnist: expected split in \('train', 'test'\), got 'val'"):
        load_mnist("val", root=tmp_path, checksums=sums)
    labels_name = SPLIT_FILES["train"][1]
    write_idx(tmp_path / "mnist" / labels_name, np.zeros(N_TRAIN - 1, dtype=np.uint8))
    sums[labels_name] = hashlib.sha256((tmp_path / "mnist" / labels_name).read_bytes()).hexdigest()
    with pytest.raises(ValueError, match=f"load_mnist: expected {N_TRAIN} labels"):
        load_mnist("train", root=tmp_path, checksums=sums)
