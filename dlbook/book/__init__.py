"""The machinery of the book's pages: recorded results, shown source, exercise checkers,
the environment report and one ``provenance()`` of versions and device.

:func:`dlbook.show_source` and ``dlbook.book.results.record`` are what chapters
use; nothing here is needed to build or train a model.
"""

from dlbook.book import results, source

__all__ = ["results", "source"]
