"""Checking and looking inside networks: numerical gradients, gradient checks, gradient flow,
receptive fields and saliency.

Import the module you need (``from dlbook.diagnostics.gradcheck import check_layer``);
the package itself loads nothing.
"""
