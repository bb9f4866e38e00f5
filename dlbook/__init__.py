"""dlbook: the tested companion package of an executable deep-learning textbook.

Importing ``dlbook`` loads only numpy-based modules and has no side effects:
no printing, no seeding, no plotting settings, no torch import. Import the
parts you need::

    import dlbook.functional as F
    from dlbook.data import load_mnist_sample
    from dlbook.plot import plot_decision_boundary   # imports matplotlib
    from dlbook import twins                         # imports torch

``dlbook.save(model, "net.npz")`` and ``model.load_state_dict(dlbook.load("net.npz"))``
store and restore a model's weights (pickle-free ``.npz``).
"""

from dlbook import functional, utils
from dlbook.serialization import load, save
from dlbook.book.source import show_source
from dlbook.utils import make_rng, seed_everything

__version__ = "0.1.0"

__all__ = ["functional", "utils", "load", "save", "show_source", "make_rng",
           "seed_everything", "__version__"]
