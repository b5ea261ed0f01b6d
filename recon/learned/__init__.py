"""Learned regularizers: published weights (torch only to read them) and training (``learn`` extra).

Inference needs no torch: :func:`load_published` returns a plain
:class:`~recon.functionals.RidgeRegularizer`.
"""
from .weights import load_npz, load_published, project_activation, published_regularizer, save_npz

__all__ = ["load_npz", "load_published", "project_activation", "published_regularizer", "save_npz"]
