"""Assembled networks of the book, built from :mod:`dlbook.layers` (Part III on).

Each builder returns a :class:`dlbook.layers.Sequential`, so the model trains
with :func:`dlbook.train.fit` and any :mod:`dlbook.optim` optimizer.
"""

from dlbook.models.cifar import (
    BatchNorm2d,
    cifar_net,
    cifar_net_torch,
    copy_weights_to_torch,
    train_cifar_torch,
)
from dlbook.models.lenet import lenet5
from dlbook.models.receptive_field import ReceptiveField, receptive_field

__all__ = ["BatchNorm2d", "ReceptiveField", "cifar_net", "cifar_net_torch", "copy_weights_to_torch",
           "lenet5", "receptive_field", "train_cifar_torch"]
