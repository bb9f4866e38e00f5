"""A careful downloader for the full datasets (used from chapter 4 on).

``fetch`` keeps one verified copy of each file in a cache directory:

* the cache is ``$DLBOOK_DATA`` if set, else ``~/.cache/dlbook``;
* a cached file is used only if its SHA-256 matches; a mismatching one is
  treated as corrupt, removed and fetched again;
* a download goes to a temporary file in the target directory, is hashed
  while it streams, and is moved into place with ``os.replace`` (atomic)
  only after the checksum matched: the cache never holds a partial file;
* mirrors are tried in order; when all fail the error says which file,
  which URLs, that the machine may be offline, and where to put the file
  by hand.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import tempfile
import urllib.request
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["ChecksumError", "DownloadError", "cache_dir", "sha256_file", "fetch"]

DATA_ENV_VAR = "DLBOOK_DATA"
DEFAULT_CACHE_DIR = Path("~") / ".cache" / "dlbook"
CHUNK_BYTES = 1 << 16  # read and hash 64 KiB at a time
TIMEOUT_S = 30.0  # per-connection socket timeout
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
TEMP_SUFFIX = ".part"
# What a failing mirror raises: URLError/HTTPError/timeouts are OSErrors;
# http.client errors (IncompleteRead, BadStatusLine) are not.
NETWORK_ERRORS = (OSError, http.client.HTTPException)

Opener = Callable[..., object]


class ChecksumError(ValueError):
    """A file's SHA-256 is not the expected one."""


class DownloadError(RuntimeError):
    """No mirror could deliver a file (network failure or offline)."""


class _ShortRead(OSError):
    """The server sent fewer bytes than its Content-Length promised."""


def cache_dir(subdir: str | None = None) -> Path:
    """Where downloads are kept: ``$DLBOOK_DATA`` or ``~/.cache/dlbook`` (plus ``subdir``).

    Nothing is created; ``fetch`` makes the directory when it needs it.
    """
    root = os.environ.get(DATA_ENV_VAR) or DEFAULT_CACHE_DIR
    base = Path(root).expanduser()
    return base / subdir if subdir else base


def sha256_file(path: str | os.PathLike) -> str:
    """The hex SHA-256 digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_args(urls, filename: str, sha256: str) -> tuple[list[str], str]:
    if isinstance(urls, str):
        urls = [urls]
    urls = list(urls)
    if not urls or not all(isinstance(u, str) and u for u in urls):
        raise ValueError(f"fetch: expected a non-empty list of URL strings, got {urls!r}")
    if not isinstance(filename, str) or not filename or os.path.basename(filename) != filename \
            or filename in (".", ".."):
        raise ValueError(f"fetch: expected a bare file name (no directories), got {filename!r}")
    expected = sha256.lower() if isinstance(sha256, str) else ""
    if not SHA256_HEX.fullmatch(expected):
        raise ValueError(f"fetch: expected sha256 as 64 hex digits, got {sha256!r}")
    return urls, expected


def _content_length(response) -> int | None:
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _stream(response, fh, digest, total: int | None, label: str, progress: bool) -> int:
    """Copy ``response`` into ``fh`` and ``digest``; return the byte count."""
    from tqdm.auto import tqdm  # lazy: keep `import dlbook` light

    done = 0
    with tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=not progress) as bar:
        while chunk := response.read(CHUNK_BYTES):
            fh.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            bar.update(len(chunk))
    return done


def _download_verified(url: str, target: Path, expected: str, urlopen: Opener,
                       progress: bool) -> None:
    """Download ``url`` to a temp file next to ``target``, verify, then rename."""
    tmp = tempfile.NamedTemporaryFile(delete=False, dir=target.parent,
                                      prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
    tmp_path = Path(tmp.name)
    try:
        digest = hashlib.sha256()
        with tmp, urlopen(url, timeout=TIMEOUT_S) as response:
            total = _content_length(response)
            got = _stream(response, tmp, digest, total, target.name, progress)
        if total is not None and got != total:
            raise _ShortRead(f"connection closed after {got} of {total} bytes")
        found = digest.hexdigest()
        if found != expected:
            raise ChecksumError(
                f"fetch: checksum mismatch for {target.name!r} downloaded from {url}: "
                f"expected sha256 {expected}, got {found} ({got} bytes). "
                "The mirror may serve a different or damaged file; nothing was saved."
            )
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)  # gone already after a successful replace


def _drop_corrupt(target: Path, expected: str, download: bool) -> None:
    found = sha256_file(target)
    message = (f"fetch: cached file {target} is corrupt (sha256 {found}, "
               f"expected {expected})")
    if not download:
        raise ChecksumError(f"{message}; delete it or call again with download=True")
    warnings.warn(f"{message}; removing it and downloading again", stacklevel=3)
    target.unlink(missing_ok=True)


def _offline_message(filename: str, target: Path, expected: str, failures) -> str:
    tried = "\n".join(f"  {url}\n    -> {type(err).__name__}: {err}" for url, err in failures)
    return (
        f"Could not download {filename!r}. Tried {len(failures)} URL(s):\n{tried}\n"
        "This machine may be offline (or the mirrors are down). To use the file anyway, "
        f"download it from one of the URLs above and place it at:\n  {target}\n"
        f"(its sha256 must be {expected}). Set ${DATA_ENV_VAR} to use another cache directory."
    )


def fetch(
    urls: str | Sequence[str],
    filename: str,
    sha256: str,
    subdir: str | None = None,
    *,
    root: str | os.PathLike | None = None,
    download: bool = True,
    urlopen: Opener | None = None,
    progress: bool = True,
) -> Path:
    """Return the path of a verified local copy of ``filename``, downloading it if needed.

    ``urls`` are full URLs of the same file on different mirrors, tried in
    order (``file://`` works too). The file lives at
    ``(root or cache_dir()) / subdir / filename``. ``urlopen`` defaults to
    ``urllib.request.urlopen`` and is called as ``urlopen(url, timeout=...)``;
    tests pass a fake one.

    Raises:
        ChecksumError: the downloaded (or, with ``download=False``, cached)
            bytes do not have the expected SHA-256.
        DownloadError: every mirror failed with a network error.
        FileNotFoundError: the file is missing and ``download=False``.
    """
    urls, expected = _check_args(urls, filename, sha256)
    base = Path(root).expanduser() if root is not None else cache_dir()
    target = (base / subdir if subdir else base) / filename
    if target.exists() and not target.is_file():
        raise ValueError(f"fetch: expected {target} to be a file, found a directory or other")
    if target.is_file():
        if sha256_file(target) == expected:
            return target
        _drop_corrupt(target, expected, download)
    if not download:
        raise FileNotFoundError(f"fetch: {target} does not exist and download=False; "
                                f"get it from {urls[0]} or call with download=True")
    target.parent.mkdir(parents=True, exist_ok=True)
    opener = urlopen if urlopen is not None else urllib.request.urlopen
    failures: list[tuple[str, Exception]] = []
    for url in urls:
        try:
            _download_verified(url, target, expected, opener, progress)
            return target
        except (ChecksumError, *NETWORK_ERRORS) as err:
            failures.append((url, err))
    checksum_errors = [err for _, err in failures if isinstance(err, ChecksumError)]
    if checksum_errors:
        raise checksum_errors[0]
    raise DownloadError(_offline_message(filename, target, expected, failures))
