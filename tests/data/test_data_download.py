"""The careful downloader, exercised fully offline.

Files are served either from ``file://`` URLs or by a fake opener; the real
``urllib.request.urlopen`` is wrapped so any non-file URL fails the test.
"""

import gzip
import hashlib
import io
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from dlbook.data import ChecksumError, DownloadError, cache_dir, fetch, read_idx, write_idx

FILENAME = "payload.bin"
MIRROR_A = "https://mirror-a.invalid/data/" + FILENAME
MIRROR_B = "https://mirror-b.invalid/data/" + FILENAME
PAYLOAD = bytes(range(256)) * 40  # 10,240 bytes
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


class FakeResponse(io.BytesIO):
    """A urlopen() response: a readable stream with headers; can fail mid-stream."""

    def __init__(self, data: bytes, content_length=None, fail_after=None, error=None):
        super().__init__(data)
        self.headers = {} if content_length is None else {"Content-Length": str(content_length)}
        self.fail_after, self.error = fail_after, error

    def read(self, size=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise self.error
        if self.fail_after is not None:
            size = min(size, self.fail_after - self.tell())
        return super().read(size)


class FakeOpener:
    """Serve bytes (or raise) per URL and record every call."""

    def __init__(self, routes):
        self.routes, self.calls = routes, []

    def __call__(self, url, timeout=None):
        self.calls.append(url)
        route = self.routes.get(url, urllib.error.URLError("no route to host"))
        if isinstance(route, BaseException):
            raise route
        return route() if callable(route) else FakeResponse(route, content_length=len(route))


def forbidden_opener(url, timeout=None):
    raise AssertionError(f"the network (or an opener) was used for {url}")


@pytest.fixture(autouse=True)
def no_real_network(monkeypatch):
    """Allow file:// URLs through the real urlopen; anything else fails the test."""
    real = urllib.request.urlopen

    def guarded(url, *args, **kwargs):
        if not str(url).startswith("file:"):
            raise AssertionError(f"test tried to reach the network: {url}")
        return real(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guarded)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("DLBOOK_DATA", str(root))
    return root


def files_under(root: Path) -> list[str]:
    """Every file (temp files included) under root, relative, sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


# ---- cache_dir -----------------------------------------------------------------

def test_cache_dir_env_override_and_default(monkeypatch, tmp_path):
    monkeypatch.setenv("DLBOOK_DATA", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x"
    assert cache_dir("mnist") == tmp_path / "x" / "mnist"
    monkeypatch.delenv("DLBOOK_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "dlbook"
    assert not (tmp_path / "home").exists()  # nothing created


# ---- (1) good file, then the cache -----------------------------------------------

def test_good_file_from_file_url_then_cache(cache, tmp_path):
    source = tmp_path / "server" / FILENAME
    source.parent.mkdir()
    source.write_bytes(PAYLOAD)
    path = fetch([source.as_uri()], FILENAME, PAYLOAD_SHA, subdir="toy", progress=False)
    assert path == cache / "toy" / FILENAME
    assert path.read_bytes() == PAYLOAD
    assert files_under(cache) == [f"toy/{FILENAME}"]
    source.unlink()  # the second call must not need the source at all
    again = fetch([source.as_uri()], FILENAME, PAYLOAD_SHA, subdir="toy", urlopen=forbidden_opener)
    assert again == path


def test_good_file_fake_opener_with_progress_bar(cache):
    opener = FakeOpener({MIRROR_A: PAYLOAD})
    path = fetch(MIRROR_A, FILENAME, PAYLOAD_SHA.upper(), urlopen=opener, progress=True)
    assert path.read_bytes() == PAYLOAD and opener.calls == [MIRROR_A]
    fetch(MIRROR_A, FILENAME, PAYLOAD_SHA, urlopen=opener)
    assert opener.calls == [MIRROR_A]  # served from the cache


def test_root_overrides_cache_dir(cache, tmp_path):
    opener = FakeOpener({MIRROR_A: PAYLOAD})
    path = fetch([MIRROR_A], FILENAME, PAYLOAD_SHA, "sub", root=tmp_path / "r", urlopen=opener,
                 progress=False)
    assert path == tmp_path / "r" / "sub" / FILENAME and files_under(cache) == []


# ---- (2) truncated file ----------------------------------------------------------

def test_truncated_download_is_a_checksum_error_and_leaves_nothing(cache, tmp_path):
    images = np.arange(12 * 28 * 28, dtype=np.uint8).reshape(12, 28, 28)
    good = write_idx(tmp_path / "imgs.idx.gz", images).read_bytes()
    short = good[: len(good) // 2]
    (tmp_path / "short.gz").write_bytes(short)
    with pytest.raises(ValueError, match="not a valid gzip file|truncated"):
        read_idx(tmp_path / "short.gz")  # what parsing it would have said
    opener = FakeOpener({MIRROR_A: short})  # Content-Length matches the short body
    with pytest.raises(ChecksumError, match="checksum mismatch for 'imgs.idx.gz'"):
        fetch([MIRROR_A], "imgs.idx.gz", hashlib.sha256(good).hexdigest(), urlopen=opener,
              progress=False)
    assert files_under(cache) == []


def test_connection_closed_before_content_length(cache):
    opener = FakeOpener({MIRROR_A: lambda: FakeResponse(PAYLOAD[:100], content_length=len(PAYLOAD))})
    with pytest.raises(DownloadError, match="connection closed after 100 of 10240 bytes"):
        fetch([MIRROR_A], FILENAME, PAYLOAD_SHA, urlopen=opener, progress=False)
    assert files_under(cache) == []


# ---- (3) wrong checksum ----------------------------------------------------------

def test_wrong_checksum_raises_and_leaves_nothing(cache):
    opener = FakeOpener({MIRROR_A: PAYLOAD})
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as info:
        fetch([MIRROR_A], FILENAME, wrong, subdir="s", urlopen=opener, progress=False)
    message = str(info.value)
    assert wrong in message and PAYLOAD_SHA in message and MIRROR_A in message
    assert isinstance(info.value, ValueError)
    assert files_under(cache) == []


# ---- (4) corrupt cached file -------------------------------------------------------

def test_corrupt_cache_is_detected_and_refetched(cache):
    opener = FakeOpener({MIRROR_A: PAYLOAD})
    path = fetch([MIRROR_A], FILENAME, PAYLOAD_SHA, urlopen=opener, progress=False)
    damaged = bytearray(PAYLOAD)
    damaged[1000] ^= 0xFF
    path.write_bytes(bytes(damaged))
    with pytest.warns(UserWarning, match="is corrupt"):
        again = fetch([MIRROR_A], FILENAME, PAYLOAD_SHA, urlopen=opener, progress=False)
    assert again.read_bytes() == PAYLOAD and len(opener.calls) == 2
    assert files_under(cache) == [FILENAME]


def test_corrupt_cache_without_download_raises(cache):
    cache.mkdir()
    (cache / FILENAME).write_bytes(b"not it")
    with pytest.raises(ChecksumError, match="is corrupt .* download=True"):
        fetch([MIRROR_A], FILENAME, PAYLOAD_SHA, download=False, urlopen=forbidden_opener)


def test_missing_without_download_raises(cache):
    with pytest.raises(FileNotFoundError, match="does not exist and download=False"):
        fetch([MIRROR_A], FILENAME, PAYLOAD_SHA, download=False, urlopen=forbidden_opener)


# ---- (5) offline -------------------------------------------------------------------

def test_offline_gives_clear_download_error(cache):
    opener = FakeOpener({})  # every URL: URLError
    with pytest.raises(DownloadError) as info:
        fetch([MIRROR_A, MIRROR_B], FILENAME, PAYLOAD_SHA, subdir="mnist", urlopen=opener,
              progress=False)
    message = str(info.value)
    for part in (FILENAME, MIRROR_A, MIRROR_B, "offline", str(cache / "mnist" / FILENAME), PAYLOAD_SHA):
        assert part in message
    assert opener.calls == [MIRROR_A, MIRROR_B]
    assert files_under(cache) == []


def test_missing_file_url_is_a_download_error(cache, tmp_path):
    url = (tmp_path / "nowhere" / FILENAME).as_uri()
    with pytest.raises(DownloadError, match="offline"):
        fetch([url], FILENAME, PAYLOAD_SHA, progress=False)
    assert files_under(cache) == []


# ---- (6) mirrors ---------------------------------------------------------------------

@pytest.mark.parametrize("failure", [
    urllib.error.URLError("timed out"),
    urllib.error.HTTPError(MIRROR_A, 404, "Not Found", hdrs=None, fp=None),
    TimeoutError("read timed out"),
])
def test_first_mirror_fails_second_succeeds(cache, failure):
    opener = FakeOpener({MIRROR_A: failure, MIRROR_B: PAYLOAD})
    path = fetch([MIRROR_A, MIRROR_B], FILENAME, PAYLOAD_SHA, urlopen=opener, progress=False)
    assert path.read_bytes() == PAYLOAD and opener.calls == [MIRROR_A, MIRROR_B]
    assert files_under(cache) == [FILENAME]


def test_mirror_with_bad_bytes_then_good_mirror(cache):
    opener = FakeOpener({MIRROR_A: b"<html>captive portal</html>", MIRROR_B: PAYLOAD})
    path = fetch([MIRROR_A, MIRROR_B], FILENAME, PAYLOAD_SHA, urlopen=opener, progress=False)
    assert path.read_bytes() == PAYLOAD


# ---- (7) failure halfway through the stream ----------------------------------------

@pytest.mark.parametrize("error, expected", [
    (ConnectionResetError("connection reset by peer"), DownloadError),
    (KeyboardInterrupt(), KeyboardInterrupt),
])
def test_failure_mid_stream_leaves_no_partial_file(cache, error, expected):
    half = len(PAYLOAD) // 2
    opener = FakeOpener({MIRROR_A: lambda: FakeResponse(PAYLOAD, len(PAYLOAD), half, error)})
    with pytest.raises(expected):
        fetch([MIRROR_A], FILENAME, PAYLOAD_SHA, urlopen=opener, progress=False)
    assert files_under(cache) == []  # the directory may exist, but it is empty


def test_gzip_fixture_round_trip_through_fetch(cache, tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    source = write_idx(tmp_path / "labels-idx1-ubyte.gz", labels)
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    path = fetch([source.as_uri()], source.name, sha, progress=False)
    np.testing.assert_array_equal(read_idx(path), labels)
    assert gzip.decompress(path.read_bytes())[:4] == b"\x00\x00\x08\x01"


# ---- bad arguments -------------------------------------------------------------------

@pytest.mark.parametrize("urls, filename, sha, message", [
    ([], FILENAME, PAYLOAD_SHA, "non-empty list of URL strings"),
    ([MIRROR_A], "../escape.bin", PAYLOAD_SHA, "bare file name"),
    ([MIRROR_A], "", PAYLOAD_SHA, "bare file name"),
    ([MIRROR_A], FILENAME, "abc", "sha256 as 64 hex digits, got 'abc'"),
    ([MIRROR_A], FILENAME, None, "sha256 as 64 hex digits, got None"),
])
def test_bad_arguments(cache, urls, filename, sha, message):
    with pytest.raises(ValueError, match=message):
        fetch(urls, filename, sha, urlopen=forbidden_opener)
