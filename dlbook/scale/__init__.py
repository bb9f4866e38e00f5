"""Frameworks and scale (chapter 22): one model in PyTorch and Keras, graphs, precision, DDP.

* :mod:`dlbook.scale.frameworks`: the same MLP as a torch module and a Keras 3
  model (PyTorch backend), trained side by side; tracing, export, compile.
* :mod:`dlbook.scale.precision`: float16 / bfloat16 limits, autocast, and a
  mixed-precision training run compared with float32.
* :mod:`dlbook.scale.ddp`: a DistributedDataParallel script for torchrun
  (gloo on CPU, NCCL on GPUs) and its single-process reference.

torch and keras are imported inside the functions, so importing this package is cheap.
The names of :mod:`dlbook.scale.ddp` are loaded on first access: importing that
module here would make ``python -m dlbook.scale.ddp`` (how torchrun starts it)
warn that the module was imported before it ran.
"""

from dlbook.scale.frameworks import (branchy, copy_torch_to_keras, epoch_orders, export_graph,
                                     graph_ops, import_keras, keras_accuracy, make_keras_mlp,
                                     make_torch_mlp, torch_accuracy, trace, train_keras,
                                     train_torch)
from dlbook.scale.precision import (autocast_dtypes, float_limits, round_trip,
                                    train_mixed_precision)

__all__ = [
    "load_arrays", "launch", "make_global_batch", "shard", "train_ddp", "train_single_process",
    "branchy", "copy_torch_to_keras", "epoch_orders", "export_graph", "graph_ops",
    "import_keras", "keras_accuracy", "make_keras_mlp", "make_torch_mlp", "torch_accuracy",
    "trace", "train_keras", "train_torch",
    "autocast_dtypes", "float_limits", "round_trip", "train_mixed_precision",
]

_DDP_NAMES = ("load_arrays", "launch", "make_global_batch", "shard", "train_ddp",
              "train_single_process")


def __getattr__(name: str):
    if name in _DDP_NAMES:
        from dlbook.scale import ddp

        return getattr(ddp, name)
    raise AttributeError(f"module 'dlbook.scale' has no attribute {name!r}")
