r"""The reconstruction driver, :func:`recon.ptycho.reconstruct`: checks, defaults, and the one sweep loop.

The sweeps themselves live in :mod:`recon.ptycho.engines` (sequential PIE, full-batch gd) and
:mod:`recon.ptycho.batches` (groups of positions); position refinement in
:mod:`recon.ptycho.positions`, the object prior in :mod:`recon.ptycho.prior`.  The loop over sweeps
(momentum, prior, refinement) is written here only; history, stopping, callback, progress bar and
the :class:`PtychoResult` come from the solvers' iteration driver, :class:`recon.solvers._loop.Loop`.

Model (operators in :mod:`recon.operators.ptychography`, data terms in
:mod:`recon.functionals.ptycho_data`):

.. math::
    I_j = |\mathcal F(P \odot S_{r_j} O)|^2, \qquad j = 1..J,

with :math:`O` the complex object (shape :math:`M\times N`), :math:`P` the probe (:math:`m\times n`),
:math:`r_j` the patch corners (row, column; object pixels) and :math:`\mathcal F` the centred unitary
DFT.  :func:`reconstruct` minimises the amplitude loss
:math:`L(O, P) = \tfrac12\sum_j\|\,|\mathcal F(P\odot S_{r_j}O)| - \sqrt{I_j}\|^2` and records the
normalised amplitude residual :math:`2L/\sum_j\sum I_j` after each sweep.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .._checks import callable_or_none, finite, one_of, positive_int, tolerance
from ..backend import array_namespace, asarray, check_finite, to_numpy
from ..functionals.ptycho_data import check_intensities
from ..operators.ptychography import check_positions
from ..solvers._loop import Loop
from .batches import batch_sweep, check_batch
from .engines import METHODS, SWEEPS, Problem
from .files import load
from .positions import PositionRefiner
from .prior import object_prior
from .scan import PtychoResult, Scan, make_probe

__all__ = ["reconstruct", "Momentum"]

_AXES = (-2, -1)


def _copy(x):
    return array_namespace(x).asarray(x, copy=True)


class Momentum:
    """Heavy-ball extrapolation of object and probe between sweeps (mPIE's momentum)."""

    def __init__(self, eta, probe=True):
        self.eta, self.probe = eta, probe
        self.previous = None
        self.velocity = None

    def step(self, obj, probe, refine_probe):
        if self.eta == 0.0:
            return obj, probe
        current = (obj, probe) if refine_probe and self.probe else (obj,)
        if self.previous is not None:
            changes = [x - p for x, p in zip(current, self.previous)]
            self.velocity = changes if self.velocity is None else [
                self.eta * v + d for v, d in zip(self.velocity, changes)]
            current = tuple(x + self.eta * v for x, v in zip(current, self.velocity))
        # Copies: PIE sweeps write the object in place.
        self.previous = tuple(_copy(x) for x in current)
        return current if len(current) == 2 else (current[0], probe)


# ---------------------------------------------------------------------------------------------
# reconstruction
# ---------------------------------------------------------------------------------------------
def _initial_probe(scan, shape, xp, cdtype):
    """A disk of the entrance-pupil diameter (half the grid if unknown), energy matched to the data."""
    diameter = None
    if scan.entrance_pupil_diameter is not None and scan.dxo:
        diameter = scan.entrance_pupil_diameter / scan.dxo
    probe = make_probe(shape, diameter, curvature=0.0, xp=xp, dtype=cdtype)
    # Parseval with |O| ~ 1: sum |P|^2 = mean_j sum I_j.
    energy = float(xp.mean(xp.sum(scan.intensities, axis=_AXES)))
    return probe * math.sqrt(energy / float(xp.sum(xp.abs(probe) ** 2)))


def _scan_from(data, positions, object_shape, probe):
    if isinstance(data, Scan):
        scan = data
    elif isinstance(data, (str,)) or hasattr(data, "__fspath__"):
        scan = load(data)
    else:
        if positions is None:
            raise ValueError("positions are required when data is an array of intensities")
        scan = Scan(data, None, None)
    intensities = check_intensities(scan.intensities, "intensities")
    if intensities.ndim != 3:
        raise ValueError(f"intensities must have shape (J, m, n), got {tuple(intensities.shape)}")
    pos = scan.positions if positions is None else positions
    pos = np.asarray(to_numpy(pos) if hasattr(pos, "shape") else pos, dtype=np.float64)
    if pos.ndim != 2 or pos.shape != (intensities.shape[0], 2):
        raise ValueError(f"positions must have shape ({intensities.shape[0]}, 2) (one per pattern), got {pos.shape}")
    shape = object_shape or scan.object_shape
    if shape is None:
        shape = tuple(int(v) for v in np.ceil(pos.max(axis=0)) + np.array(intensities.shape[1:]))
    shape = tuple(int(s) for s in shape)
    pos = check_positions(pos, intensities.shape[1:], shape)
    return scan, intensities, pos, shape


def reconstruct(data, *, probe=None, positions=None, object_shape=None, method: str = "rpie", iters: int = 100,
                refine_probe: bool = True, refine_positions: bool = False, alpha: float | None = None,
                beta: float | None = None, momentum: float | None = None, x0=None, tol: float = 0.0, seed=0,
                progress: bool = False, callback=None, reg=None, weight: float | None = None,
                batch: int | None = None) -> PtychoResult:
    r"""Reconstruct object (and probe) from far-field ptychographic intensities.

    Parameters
    ----------
    data : Scan, path, or array (J, m, n)
        The scan (:func:`simulate`, :func:`~recon.ptycho.files.load`), a file to load, or intensities
        (then ``positions`` is required).  Single precision data (float32) runs in complex64.
    probe : array (m, n), optional
        Initial (or, with ``refine_probe=False``, known) probe; default ``data.probe``, else a disk of
        the entrance-pupil diameter whose energy matches the data.
    positions : array_like (J, 2), optional
        Patch corners; default ``data.positions``.
    object_shape : tuple, optional
        Object grid; default from the scan, else the smallest grid holding all patches.
    method : {"rpie", "epie", "gd"}
        ``"rpie"`` (Maiden, Johnson & Li 2017): per position, random order,
        :math:`O \mathrel{+}= \bar P\Delta/((1-\alpha)|P|^2 + \alpha\max|P|^2)`, the probe likewise
        with :math:`\beta`, :math:`\Delta = \mathcal F^{-1}\Pi_{I_j}\mathcal F\psi_j - \psi_j`;
        ``alpha`` default 0.05, ``beta`` 1.0.
        ``"epie"`` (Maiden & Rodenburg 2009): :math:`O \mathrel{+}= \alpha\bar P\Delta/\max|P|^2`,
        :math:`P \mathrel{+}= \beta\,\overline{S_jO}\Delta/\max|S_jO|^2`; ``alpha = beta = 1`` by default.
        ``"gd"``: full-batch gradient steps on :math:`L` with the overlap-normalised step,
        :math:`O \leftarrow O - \nabla_O L / (\sum_j S_j^*|P|^2 + \alpha\max)` (``alpha`` default 1e-3),
        then :math:`P \leftarrow P - \nabla_P L/(\sum_j|S_jO|^2 + \beta\max)`.  Each step exactly
        minimises the majoriser :math:`\tfrac12\sum_j\|P\odot S_jO - \Pi_{I_j}\mathcal F\ldots\|^2`
        (plus a proximal term), so :math:`L` never increases (Thibault et al. 2009, error reduction);
        with ``batch`` smaller than the scan, the same step per group of positions.
    momentum : float in [0, 1), optional
        After each sweep, :math:`v \leftarrow \eta v + (O_k - O_{k-1})`, :math:`O_k \leftarrow O_k + \eta v`
        (and likewise for the probe): the momentum of mPIE (Maiden, Johnson & Li 2017, §4), which
        removes the slow low-frequency tail of PIE-type iterations.  Default 0.9 for ``"rpie"`` and
        ``"gd"`` with a known probe (measured: object error 4e-5 vs 7e-3 after 100 sweeps on a 128²
        test); 0 when the probe is refined (there it stalled the residual near 5e-3 where plain rPIE
        reached 1e-3 in 18 sweeps) and for ``"epie"`` (the 2009 algorithm as published).  With momentum
        the residual need not decrease monotonically; ``"gd"`` without it does.
    iters : int
        Number of sweeps (one sweep visits every position once).
    batch : int, optional
        Number of positions whose exit waves are processed together (:mod:`recon.ptycho.batches`):
        each sweep splits the positions, in random order, into groups of ``batch``, projects a
        group's waves with one batched FFT pair, and moves object and probe once per group by the
        sum of the group's corrections normalised by the group's overlap
        :math:`\sum_{j\in G}S_j^*|P|^2` (for ``"rpie"`` as
        :math:`(1-\alpha)\Omega_G + \alpha\max\Omega_G`).  ``None`` (default): 1 for
        ``"rpie"``/``"epie"`` (the classic sequential PIE, which ``batch=1`` is exactly) and the
        number of positions for ``"gd"`` (full batch, which ``batch=J`` is exactly); smaller groups
        make ``"gd"`` a stochastic mini-batch method (default ``alpha`` then 0.05, as rPIE's).
        Measured on 2 shared CPU cores (NumPy, known probe, 256² object, 64² probe, 120 positions,
        ``benchmarks/bench_ptycho.py --batches``): batched
        rPIE is not faster than the sequential sweep (0.64–1.1× its speed per sweep for groups of
        4–30; the sequential sweep's cost is already its FFTs), while ``"gd"`` in groups of 8–30 runs
        2–3× faster per sweep than in one full batch and reaches an object error of 1e-3 2.5× sooner
        (0.68 vs 1.77 s in float64).  On GPUs, where a batched FFT costs little more than one, larger
        groups should pay more; not measured here.
    refine_probe : bool
        Update the probe.
    refine_positions : bool or dict
        Update the positions after every sweep by smoothed Gauss–Newton steps in the positions
        (the gradient :math:`\partial L/\partial r_j` and its 2×2 Gauss–Newton matrix per position),
        coarse to fine, at most 0.5 px per sweep, the mean shift removed
        (:mod:`recon.ptycho.positions`).  Starts after ``min(5, iters // 10)`` sweeps
        (``iters // 6`` when the probe is refined too), the low-pass reaching zero at
        ``2 * iters // 3``; a dict overrides the options of
        :class:`~recon.ptycho.positions.PositionRefiner` (``start``, ``until``, ``sigma``,
        ``max_step``, ``momentum``).  With ``"gd"`` the object step is then normalised patch by
        patch on the probe grid (as the PIE methods do; default ``alpha`` 0.05) instead of by the
        widened overlap, whose smaller steps let the object lag and the positions drift (measured:
        1.6 → 5.3 px RMS).  Measured (128² object, 32² probe, 100 positions, uniform ±2 px errors,
        150 sweeps, known probe, 3 perturbations): rPIE 0.08–0.09 px RMS; ``"gd"`` full batch
        0.07–0.19 px, ``batch=10`` 0.06–0.09 px; with the probe refined from a disk, 250 sweeps,
        2 perturbations: rPIE 0.09–0.13 px, but ``"gd"`` fails (full batch 4.5–5 px; ``batch=10``
        0.8–1.7 px, 0.20–0.24 px with ``{"start": 100, "until": 200}``): prefer rPIE there.
    reg : None, "tv" or Functional
        Prior on the object, applied by parts, :math:`w\,(R(\operatorname{Re}O) + R(\operatorname{Im}O))`
        (:class:`~recon.ptycho.prior.ObjectProx`), through its prox after every sweep:
        a forward–backward step for ``"gd"``, and the same prox between sweeps for the PIE
        methods (as PtyLab's ``objectTVregSwitch``).  ``"tv"``: isotropic TV
        (:class:`~recon.functionals.TV`).
    weight : float
        The prior's weight :math:`w` (required with ``reg``), in the units of the object, whose
        scale is set by the probe (:math:`|O| \approx 1` with the default probe).  Measured on
        1e3 photons per pattern (64² object, gd, 50 sweeps): error 0.146 without, 0.081 with
        ``reg="tv", weight=0.3``.
    x0 : array (M, N), optional
        Initial object (default: ones).
    tol : float
        Stop once the normalised amplitude residual :math:`\sum(|\mathcal F\psi| - \sqrt I)^2/\sum I`
        of a sweep is at most ``tol``.
    seed : int
        Seed of the random position order.
    progress : bool
        Show a progress bar.
    callback : callable, optional
        ``callback(k, x, probe, positions)`` after each sweep; returning True stops.

    Returns
    -------
    PtychoResult
        ``x`` (object), ``probe``, ``positions`` (NumPy (J, 2)), ``history["residual"]`` per sweep,
        ``iterations``, ``converged``.

    References
    ----------
    Maiden, A. M. & Rodenburg, J. M. (2009). An improved ptychographical phase retrieval algorithm for
    diffractive imaging. *Ultramicroscopy* 109, 1256–1262.
    Maiden, A., Johnson, D. & Li, P. (2017). Further improvements to the ptychographical iterative
    engine. *Optica* 4, 736–745.
    Thibault, P., Dierolf, M., Bunk, O., Menzel, A. & Pfeiffer, F. (2009). Probe retrieval in
    ptychographic coherent diffractive imaging. *Ultramicroscopy* 109, 338–343.
    """
    one_of(method, "method", METHODS)
    iters = positive_int(iters, "iters")
    tol = tolerance(tol)
    callable_or_none(callback, "callback")
    scan, intensities, pos, shape = _scan_from(data, positions, object_shape, probe)
    pos = pos.copy()  # refined in place
    batch = check_batch(batch, pos.shape[0], method)
    xp = array_namespace(intensities)
    cdtype = xp.complex64 if intensities.dtype == xp.float32 else xp.complex128
    m, n = intensities.shape[1:]
    probe = scan.probe if probe is None else probe
    if probe is None:
        probe = _initial_probe(scan, (m, n), xp, cdtype)
    else:
        if tuple(probe.shape) != (m, n):
            raise ValueError(f"probe must have shape {(m, n)} (the patterns'), got {tuple(probe.shape)}")
        check_finite(probe, "probe")
        probe = xp.astype(asarray(probe, xp=xp) if array_namespace(probe) is not xp else probe, cdtype)
    if x0 is None:
        obj = xp.ones(shape, dtype=cdtype)
    else:
        if tuple(x0.shape) != shape:
            raise ValueError(f"x0 must have shape {shape}, got {tuple(x0.shape)}")
        check_finite(x0, "x0")
        obj = xp.astype(x0, cdtype)
    # gd's groups smaller than the scan need rPIE's alpha: one group's overlap leaves the probe's rim nearly
    # unweighted (measured, 64² object, 40 positions, batch=1: alpha 1e-3 diverged, 0.05 reached 3e-10); so
    # does the patch-wise step with position refinement (measured, full batch: 0.28 vs 0.16 px RMS).
    gd_alpha = 1e-3 if batch == pos.shape[0] and not refine_positions else 0.05
    defaults = {"rpie": (0.05, 1.0), "epie": (1.0, 1.0), "gd": (gd_alpha, 1e-3)}[method]
    alpha = finite(defaults[0] if alpha is None else alpha, "alpha", gt=0)
    beta = finite(defaults[1] if beta is None else beta, "beta", gt=0)
    if momentum is None:
        momentum = 0.0 if method == "epie" or refine_probe else 0.9
    velocity = Momentum(finite(momentum, "momentum", ge=0, lt=1), probe=False)

    prior = object_prior(reg, weight)
    problem = Problem(intensities)
    rng = np.random.default_rng(seed)
    if method == "gd" and refine_positions:
        sweep = functools.partial(batch_sweep, batch=batch, patchwise=True)
    elif batch == (1 if method in ("rpie", "epie") else pos.shape[0]):
        sweep = SWEEPS[method]
    else:
        sweep = functools.partial(batch_sweep, batch=batch)
    refiner = None
    if refine_positions:
        options = dict(refine_positions) if isinstance(refine_positions, dict) else {}
        options.setdefault("start", iters // 6 if refine_probe else min(5, iters // 10))
        options.setdefault("until", (2 * iters) // 3)
        try:
            refiner = PositionRefiner(pos, (m, n), shape, **options)
        except TypeError as err:
            raise ValueError(f"refine_positions must be a bool or a dict of PositionRefiner options: {err}") from None
    # messages as before the driver existed: "reached iters=N", "residual ... <= tol"; tol = 0 still
    # stops at a residual of exactly 0
    loop = Loop(f"ptycho {method}", iters, callback=callback, progress=progress, message=f"reached iters={iters}")
    for k in loop:
        system = None if refiner is None else refiner.system(k, problem)
        obj, probe, residual = sweep(problem, obj, probe, pos, method, alpha, beta, refine_probe, rng, system)
        obj, probe = velocity.step(obj, probe, refine_probe)
        if prior is not None:
            obj = prior(obj)
        residual = problem.normalised(residual)
        loop.record(residual=residual)
        if system is not None:
            pos = refiner.step(pos, system)
        if residual <= tol and loop.stop(f"residual {residual:.3g} <= tol"):
            break
        if loop.callback_stops(obj, probe, pos):
            break
    return loop.result(obj, cls=PtychoResult, probe=probe, positions=pos)
