"""What every solver returns: :class:`Result`, with its :class:`History`.

A solver records into a :class:`History` every ``record_every`` iterations (objective,
residual, gap where defined); the iteration driver :class:`recon.solvers._loop.Loop` does the
recording, stopping and progress bar.  Nothing is printed; information lives in
``Result.history`` and in the ``recon`` logger.  Modalities subclass :class:`Result` for fields
of their own (e.g. the ptychography result's ``probe``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Result", "History"]

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
