"""Text corpora (Lee, WikiText-2 on fixture zips, fully offline) and the letters tasks."""

import hashlib
import importlib.util
import io
import urllib.error
import urllib.request
import zipfile

import numpy as np
import pytest

import dlbook.data.text as text_module
from dlbook.data import ChecksumError, DownloadError
from dlbook.data.letters import ALPHABET, contains_letter_dataset, letter_position_dataset
from dlbook.data.text import (WIKITEXT2_SHA256, WIKITEXT2_SPLITS, WIKITEXT2_URL,
                              load_lee_corpus, load_wikitext2)
from dlbook.text import word_tokenize

SPLIT_TEXT = {
    "train": " = Valkyria Chronicles = \n\n Senjō no Valkyria 3 : café @-@ naïve \n",
    "valid": " = Homarus gammarus = \n\n The lobster is 1 @,@ 000 mm long . \n",
    "test": " = Robert Boulter = \n\n Robert Boulter is an English actor . \n",
}


@pytest.fixture(autouse=True)
def no_real_network(monkeypatch):
    def refuse(url, *args, **kwargs):
        raise AssertionError(f"test tried to reach the network: {url}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def make_zip(members=None) -> bytes:
    members = {f"wikitext-2-raw/wiki.{s}.raw": t.encode("utf-8") for s, t in SPLIT_TEXT.items()} \
        if members is None else members
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def serve(tmp_path, data: bytes) -> tuple[str, str]:
    """Put ``data`` behind a file:// URL; return (url, sha256)."""
    src = tmp_path / "mirror" / "wikitext-2-raw-v1.zip"
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(data)
    return src.as_uri(), hashlib.sha256(data).hexdigest()


def file_opener(url, timeout=None):
    """Only file:// URLs are served (the autouse fixture blocks the real urlopen)."""
    assert url.startswith("file://"), url
    return urllib.request.build_opener().open(url, timeout=timeout)


# --- WikiText-2 ------------------------------------------------------------------

def test_wikitext2_fixture_all_splits_then_cache(tmp_path):
    url, sha = serve(tmp_path, make_zip())
    root = tmp_path / "cache"
    for split in WIKITEXT2_SPLITS:
        text = load_wikitext2(split, root=root, progress=False, url=url, sha256=sha,
                              urlopen=file_opener)
        assert text == SPLIT_TEXT[split]
    assert (root / "wikitext2" / "wikitext-2-raw-v1.zip").is_file()

    def forbidden(url, timeout=None):
        raise AssertionError("the verified cache should have been used")

    assert load_wikitext2("valid", root=root, url=url, sha256=sha, urlopen=forbidden,
                          download=False) == SPLIT_TEXT["valid"]


def test_wikitext2_module_constants_are_used(tmp_path, monkeypatch):
    """Patching the module's URL and hash is enough: the loader reads them at call time."""
    url, sha = serve(tmp_path, make_zip())
    monkeypatch.setattr(text_module, "WIKITEXT2_URL", url)
    monkeypatch.setattr(text_module, "WIKITEXT2_SHA256", sha)
    assert load_wikitext2("test", root=tmp_path / "c", progress=False,
                          urlopen=file_opener) == SPLIT_TEXT["test"]


def test_wikitext2_real_constants():
    assert WIKITEXT2_URL.startswith("https://huggingface.co/datasets/ggml-org/ci/resolve/")
    assert WIKITEXT2_URL.endswith("/wikitext-2-raw-v1.zip")
    assert WIKITEXT2_SHA256 == "ef7edb566e3e2b2d31b29c1fdb0c89a4cc683597484c3dc2517919c615435a11"


def test_wikitext2_wrong_checksum_saves_nothing(tmp_path):
    url, _ = serve(tmp_path, make_zip())
    with pytest.raises(ChecksumError, match="checksum mismatch for 'wikitext-2-raw-v1.zip'"):
        load_wikitext2(root=tmp_path / "cache", progress=False, url=url, sha256="0" * 64,
                       urlopen=file_opener)
    assert not (tmp_path / "cache" / "wikitext2" / "wikitext-2-raw-v1.zip").exists()


def test_wikitext2_offline_is_a_clear_error(tmp_path):
    def offline(url, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    with pytest.raises(DownloadError, match="(?s)Could not download 'wikitext-2-raw-v1.zip'.*"
                                            "huggingface.co.*may be offline"):
        load_wikitext2(root=tmp_path, progress=False, urlopen=offline)
    with pytest.raises(FileNotFoundError, match="download=False"):
        load_wikitext2(root=tmp_path, download=False)


def test_wikitext2_bad_split_checked_before_any_download(tmp_path):
    with pytest.raises(ValueError, match=r"expected split in \('train', 'valid', 'test'\), "
                                         r"got 'validation'"):
        load_wikitext2("validation", root=tmp_path)
    assert not any(tmp_path.iterdir())


def test_wikitext2_damaged_or_incomplete_archive(tmp_path):
    url, sha = serve(tmp_path, make_zip()[:-30])  # the central directory cut off
    with pytest.raises(ValueError, match="not a valid zip archive"):
        load_wikitext2(root=tmp_path / "a", progress=False, url=url, sha256=sha,
                       urlopen=file_opener)
    url, sha = serve(tmp_path, make_zip({"wikitext-2-raw/wiki.train.raw": b"x"}))
    with pytest.raises(ValueError, match="has no member 'wikitext-2-raw/wiki.test.raw'"):
        load_wikitext2("test", root=tmp_path / "b", progress=False, url=url, sha256=sha,
                       urlopen=file_opener)
    url, sha = serve(tmp_path, make_zip({"wikitext-2-raw/wiki.train.raw": b"\xff\xfe"}))
    with pytest.raises(ValueError, match="is not UTF-8 text"):
        load_wikitext2(root=tmp_path / "c", progress=False, url=url, sha256=sha,
                       urlopen=file_opener)


# --- Lee corpus ------------------------------------------------------------------

def test_lee_corpus_documents_and_tokens():
    docs = load_lee_corpus()
    assert len(docs) == 300 and all(isinstance(d, str) and d.strip() for d in docs)
    assert docs[0].startswith("Hundreds of people have been forced to vacate their homes")
    assert sum(len(word_tokenize(d)) for d in docs) == 67511


def test_lee_corpus_without_gensim(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "gensim" else real(name, *a))
    with pytest.raises(ImportError, match="pip install gensim"):
        load_lee_corpus()


# --- letters -----------------------------------------------------------------------

def test_contains_letter_labels_balance_and_lengths():
    strings, labels = contains_letter_dataset(1001, min_len=2, max_len=6, rng=0)
    assert len(strings) == 1001 and labels.dtype == np.int64 and set(labels) == {0, 1}
    assert labels.sum() == 500  # round(1001 * 0.5) = 500 exactly (banker's rounding)
    assert all(("a" in s) == bool(y) for s, y in zip(strings, labels))
    assert {len(s) for s in strings} == set(range(2, 7))
    assert set("".join(strings)) <= set(ALPHABET)
    counts = [s.count("a") for s, y in zip(strings, labels) if y]
    assert min(counts) == 1 and max(counts) == 3
    _, skewed = contains_letter_dataset(100, p_contains=0.2, rng=1)
    assert skewed.sum() == 20


def test_contains_letter_custom_alphabet_and_determinism():
    s1, y1 = contains_letter_dataset(50, letter="x", alphabet="xyz", rng=3)
    s2, y2 = contains_letter_dataset(50, letter="x", alphabet="xyz", rng=np.random.default_rng(3))
    assert s1 == s2 and np.array_equal(y1, y2)
    assert set("".join(s1)) <= set("xyz")
    assert all(("x" in s) == bool(y) for s, y in zip(s1, y1))
    s3, _ = contains_letter_dataset(50, letter="x", alphabet="xyz", rng=4)
    assert s3 != s1


def test_letter_position_exactly_once_and_balanced():
    strings, pos = letter_position_dataset(205, length=10, rng=0)
    assert pos.dtype == np.int64 and len(strings) == 205
    assert all(len(s) == 10 and s.count("a") == 1 and s.index("a") == p
               for s, p in zip(strings, pos))
    counts = np.bincount(pos, minlength=10)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 205
    again, pos2 = letter_position_dataset(205, length=10, rng=0)
    assert again == strings and np.array_equal(pos, pos2)
    s, p = letter_position_dataset(3, length=1, letter="q", rng=5)
    assert s == ["q"] * 3 and p.tolist() == [0, 0, 0]


@pytest.mark.parametrize("fn, kwargs, error, message", [
    (contains_letter_dataset, dict(n=0), ValueError, "n >= 1; got 0"),
    (contains_letter_dataset, dict(n=5, min_len=4, max_len=3), ValueError,
     "max_len >= min_len; got 3 < 4"),
    (contains_letter_dataset, dict(n=5, p_contains=1.5), ValueError, r"p_contains in \[0, 1\]"),
    (contains_letter_dataset, dict(n=5, letter="A"), ValueError, "one character of the alphabet"),
    (contains_letter_dataset, dict(n=5, letter="ab"), ValueError, "got 'ab'"),
    (contains_letter_dataset, dict(n=5, alphabet="aab"), ValueError, "distinct characters"),
    (contains_letter_dataset, dict(n=5, rng="seed"), TypeError, "expected rng"),
    (letter_position_dataset, dict(n=5, length=0), ValueError, "length >= 1; got 0"),
    (letter_position_dataset, dict(n=5, alphabet="a"), ValueError, "at least 2 distinct"),
    (letter_position_dataset, dict(n=2.0), TypeError, "n to be an int; got float"),
])
def test_letters_bad_arguments(fn, kwargs, error, message):
    with pytest.raises(error, match=message):
        fn(**kwargs)
