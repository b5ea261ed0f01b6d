"""Learned ridge regularizers (CRR-NN, WCRR-NN): the models recon ships, published checkpoints, training.

Inference needs no torch: every loader returns a plain :class:`~recon.functionals.RidgeRegularizer`.
``reg="crr"`` / ``"wcrr"`` in :func:`recon.denoise`, :func:`recon.deblur` and ``recon.ct.reconstruct``
always mean the models recon ships; the published checkpoints load only when asked for
(:func:`load_published`, or the names ``"crr-published"`` / ``"wcrr-published"``).

::

    recon/learned/
      weights.py          names -> models: "crr"/"wcrr" (shipped), "*-published" (checkpoints)
      models/             the shipped .npz files and their model cards (package data)
      npz.py              save_npz / load_npz: recon's torch-free file format
      published.py        load_published: the authors' PyTorch checkpoints (torch to read them)
      parametrization.py  the model class: projected activation, noise scaling, ||W|| = 1
      -- training (torch, the ``learn`` extra; imported only when used) --
      torch_ops.py        convolution chain and its adjoint, compiled spline activation (autograd)
      _activation_numba.py  the activation's compiled backward kernel (numba, optional)
      implicit.py         batched prox, conjugate gradients, implicit (deep-equilibrium) gradient
      patches.py          training images, random patches, held-out validation crops
      loop.py             the one training loop: resume, time limit, decay, validation, checkpoints
      train.py            TorchRidge (twin of RidgeRegularizer), train_crr (t-step CRR-NN)
      train_prox.py       train_crr_prox (CRR-NN through its exact prox, one noise level)
      wcrr_model.py       TorchWCRR (noise-scaled WCRR / CRR) and its export
      train_wcrr.py       train_wcrr (multi-noise WCRR / CRR, the recipe of the shipped models)
"""
from .npz import load_npz, save_npz
from .parametrization import project_activation, unit_norm
from .published import load_published
from .weights import NAMES, load_shipped, published_regularizer, ridge_regularizer, shipped_path

__all__ = ["NAMES", "load_npz", "load_published", "load_shipped", "project_activation", "published_regularizer",
           "ridge_regularizer", "save_npz", "shipped_path", "unit_norm"]
