"""Networks and training loops that the book runs in PyTorch (chapters 10, 19, 20).

The numpy networks live in :mod:`dlbook.models`; their torch twins come from
:mod:`dlbook.twins`. The loops here train those twins on data too large for
numpy on a CPU (CIFAR-10, the autoencoder) and the GAN of chapter 20, which
the book builds in PyTorch only. Every module imports torch when called.
"""
