"""What every solver returns, and the bookkeeping every solver shares.

A solver records into a :class:`History` every ``record_every`` iterations (objective,
residual, gap where defined), asks its callback whether to stop, and shows a tqdm progress
bar when ``progress=True``.  Nothing is printed; information lives in ``Result.history`` and
in the ``recon`` logger.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from ..operators.base import norm

__all__ = ["Result", "History", "progress_bar", "relative_change", "check_positive_int", "check_tol"]

logger = logging.getLogger("recon")


@dataclass
class Result:
    """Outcome of a solver.

    Attributes
    ----------
    x : array
        The final iterate (the reconstruction).
    iterations : int
        Number of iterations performed.
    converged : bool
        True when the stopping rule (``tol``, or a callback returning True) ended the run
        before ``iters`` was exhausted.
    history : dict of str -> list
        Recorded quantities, each a list aligned with ``history["iteration"]``.
    message : str
        Why the solver stopped.
    extras : dict
        Solver-specific extras (e.g. the dual variable ``"y"`` of pdhg, the step size used).
    """

    x: Any
    iterations: int
    converged: bool
    history: dict = field(default_factory=dict)
    message: str = ""
    extras: dict = field(default_factory=dict)

    def __repr__(self):
        keys = ", ".join(self.history)
        return (
            f"Result(iterations={self.iterations}, converged={self.converged}, "
            f"message={self.message!r}, history=[{keys}])"
        )


class History(dict):
    """A dict of lists; ``record(k, objective=..., gap=...)`` appends one row."""

    def record(self, iteration: int, **values):
        self.setdefault("iteration", []).append(iteration)
        for key, value in values.items():
            self.setdefault(key, []).append(float(value))


def progress_bar(total: int, enabled: bool, desc: str):
    """A tqdm bar when ``enabled`` (a no-op object otherwise)."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass


def relative_change(new, old) -> float:
    """:math:`\\|x_{new} - x_{old}\\| / \\max(\\|x_{new}\\|, \\text{tiny})`."""
    if isinstance(new, tuple):
        diff = tuple(a - b for a, b in zip(new, old))
    else:
        diff = new - old
    den = norm(new)
    return norm(diff) / den if den > 0 else norm(diff)


def check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def check_tol(tol, name: str = "tol") -> float:
    tol = float(tol)
    if not (tol >= 0 and math.isfinite(tol)):
        raise ValueError(f"{name} must be a finite number >= 0, got {tol}")
    return tol
