"""Real English text for Part IV: the Lee news corpus (offline) and WikiText-2 (downloaded).

* :func:`load_lee_corpus`: the 300 short Australian news articles of the
  Lee et al. (2005) document-similarity study, shipped with gensim as its
  test file ``lee_background.cor`` (one document per line). The file is
  found through gensim's installed location; gensim itself is not imported.
* :func:`load_wikitext2`: the raw WikiText-2 corpus (Merity et al. 2016,
  "Pointer Sentinel Mixture Models"), about 2 million words of Wikipedia
  articles, fetched once with :func:`dlbook.data.download.fetch` (SHA-256
  verified, atomic, cached) and read straight out of its zip archive.
"""

from __future__ import annotations

import importlib.util
import os
import zipfile
from pathlib import Path

from .download import Opener, fetch

__all__ = ["load_lee_corpus", "load_wikitext2", "WIKITEXT2_URL", "WIKITEXT2_SHA256",
           "WIKITEXT2_SPLITS"]

LEE_FILE = ("test", "test_data", "lee_background.cor")  # inside the gensim package
LEE_DOCUMENTS = 300

WIKITEXT2_ARCHIVE = "wikitext-2-raw-v1.zip"
# Provenance: the original Salesforce/Smerity S3 links are gone; this is the
# same raw WikiText-2 v1 zip (4,721,645 bytes) mirrored in the ggml-org/ci
# dataset on Hugging Face, pinned to a commit. Its SHA-256 is that file's
# Hugging Face LFS object id (LFS ids are the SHA-256 of the content).
WIKITEXT2_URL = ("https://huggingface.co/datasets/ggml-org/ci/resolve/"
                 "927b3642933080f1b0e811e2f916e14c292992f9/wikitext-2-raw-v1.zip")
WIKITEXT2_SHA256 = "ef7edb566e3e2b2d31b29c1fdb0c89a4cc683597484c3dc2517919c615435a11"
WIKITEXT2_SUBDIR = "wikitext2"
WIKITEXT2_SPLITS = ("train", "valid", "test")
WIKITEXT2_MEMBER = "wikitext-2-raw/wiki.{split}.raw"


def load_lee_corpus() -> list[str]:
    """The 300 documents of gensim's ``lee_background.cor``: real English news, offline.

    Shapes: -> list of 300 str (one article each, no trailing newline).
    Used for the word vectors of chapter 13.

    Raises:
        ImportError: gensim is not installed (``pip install gensim``).
        FileNotFoundError: the installed gensim lacks its test data.
    """
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("load_lee_corpus needs the gensim package, which ships the Lee corpus "
                          "as test data: pip install gensim")
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*LEE_FILE)
    if not path.is_file():
        raise FileNotFoundError(f"load_lee_corpus: {path} not found; this gensim install "
                                "lacks its test data (pip install --force-reinstall gensim)")
    text = path.read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def load_wikitext2(split: str = "train", root: str | os.PathLike | None = None,
                   download: bool = True, progress: bool = True, *,
                   url: str | None = None, sha256: str | None = None,
                   urlopen: Opener | None = None) -> str:
    """The raw text of one WikiText-2 split ("train", "valid" or "test"), UTF-8 decoded.

    Shapes: -> one str (train: about 10.9 million characters).
    The zip is cached in ``<root>/wikitext2`` (``root`` defaults to
    :func:`dlbook.data.download.cache_dir`); ``url`` / ``sha256`` replace
    ``WIKITEXT2_URL`` / ``WIKITEXT2_SHA256`` and ``urlopen`` the opener (tests
    use fixture archives). Used by the language models of chapters 15 and 18.

    Raises:
        ValueError: bad ``split``; a damaged zip or one without the member.
        ChecksumError, DownloadError, FileNotFoundError: from ``fetch``.
    """
    if split not in WIKITEXT2_SPLITS:
        raise ValueError(f"load_wikitext2: expected split in {WIKITEXT2_SPLITS}, got {split!r}")
    archive = fetch(url or WIKITEXT2_URL, WIKITEXT2_ARCHIVE, sha256 or WIKITEXT2_SHA256,
                    WIKITEXT2_SUBDIR, root=root, download=download, urlopen=urlopen,
                    progress=progress)
    member = WIKITEXT2_MEMBER.format(split=split)
    try:
        with zipfile.ZipFile(archive) as zf:
            data = zf.read(member)
    except KeyError as err:
        raise ValueError(f"load_wikitext2: {archive} has no member {member!r}; expected the "
                         "layout wikitext-2-raw/wiki.{train,valid,test}.raw") from err
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise ValueError(f"load_wikitext2: {archive} is not a valid zip archive "
                         f"(truncated or damaged): {type(err).__name__}: {err}") from err
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"load_wikitext2: member {member!r} of {archive} is not UTF-8 text: "
                         f"{err}") from err
