"""The one training loop of recon's trainers (:func:`~recon.learned.train.train_crr`,
:func:`~recon.learned.train_prox.train_crr_prox`, :func:`~recon.learned.train_wcrr.train_wcrr`).

A trainer builds its model and optimiser and hands :class:`TrainingRun` two functions: ``step(k)``,
one optimiser step (projection included) returning its log entry, and optionally ``validate()``,
returning a :class:`Score`.  The run owns what the three trainers share: resuming from a ``.pt``
checkpoint (atomic writes), the step and time budget (the time counts the runs it resumes), the
geometric learning-rate decay, validation every ``validate_every`` steps and at the end with the best
state kept and returned, the log callback and the progress bar.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .._checks import finite_or_none
from .torch_ops import require_torch

__all__ = ["Score", "TrainingRun", "check_budget"]


@dataclass
class Score:
    """A validation: ``value`` (higher is better), ``detail`` stored beside it in the history, extra ``log``
    fields, and the parameters scored (``state``; default the model's own)."""

    value: float
    detail: object = None
    log: dict = field(default_factory=dict)
    state: dict | None = None


def check_budget(steps, time_limit, *, required="either"):
    """Named errors for a run's ``steps`` / ``time_limit`` (``required="steps"``: steps must be given)."""
    if required == "steps" and steps is None:
        raise ValueError("steps must be an integer >= 0, got None")
    if steps is None and time_limit is None:
        raise ValueError("give steps or time_limit (or both), got neither")
    if steps is not None and (int(steps) != steps or steps < 0):
        raise ValueError(f"steps must be an integer >= 0, got {steps}")
    finite_or_none(time_limit, "time_limit", gt=0)  # seconds


def _clone(state_dict):
    return {k: t.detach().clone() for k, t in state_dict.items()}


class TrainingRun:
    """A model and its optimiser, resumed from ``checkpoint`` when that file exists.

    Parameters
    ----------
    model, optimizer
        The ``torch.nn.Module`` and its optimiser (its groups' learning rates are the start values).
    checkpoint : str or Path, optional
        ``.pt`` file: read now when it exists, written by :meth:`run`.
    state : dict, optional
        Further things to checkpoint (e.g. a power-iteration vector); updated in place on resume and
        read back by the step function from :attr:`state`.

    Attributes
    ----------
    done : int
        Steps restored from the checkpoint (0 for a fresh run).
    """

    def __init__(self, model, optimizer, *, checkpoint=None, state=None):
        torch = require_torch()
        self.model, self.optimizer, self.checkpoint = model, optimizer, checkpoint
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.state = {} if state is None else state
        self.done, self.elapsed = 0, 0.0
        self.history = {"train": [], "validation": [], "best": None}
        self.best_state = None
        if checkpoint is not None and Path(checkpoint).is_file():
            saved = torch.load(checkpoint, weights_only=False)
            model.load_state_dict(saved.pop("model"))
            optimizer.load_state_dict(saved.pop("optimizer"))
            self.done, self.elapsed = saved.pop("step"), saved.pop("elapsed")
            self.history, self.best_state = saved.pop("history"), saved.pop("best_state")
            self.state.update(saved)

    def save(self, step, elapsed):
        if self.checkpoint is None:
            return
        torch = require_torch()
        tmp = Path(str(self.checkpoint) + ".tmp")
        torch.save({"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "step": step,
                    "elapsed": elapsed, "history": self.history, "best_state": self.best_state, **self.state}, tmp)
        tmp.replace(self.checkpoint)  # a partial file never carries the checkpoint's name

    def _validate(self, step, validate, log):
        score = validate()
        self.history["validation"].append((step, score.value) if score.detail is None
                                          else (step, score.value, score.detail))
        best = self.history["best"]
        if best is None or score.value > best[1]:
            self.history["best"] = (step, score.value)
            self.best_state = _clone(self.model.state_dict() if score.state is None else score.state)
        if log is not None:
            log(dict({"step": step}, **score.log, validation_psnr=score.value))

    def run(self, step, *, steps=None, time_limit=None, decay=1.0, validate=None, validate_every=0,
            checkpoint_every=None, progress=False, description="train", log=None):
        """Train until ``steps`` steps or ``time_limit`` seconds (this run and those it resumes).

        ``step(k)`` runs step ``k + 1`` (``k`` steps done) and returns its log entry; the learning
        rates are ``decay ** f`` times their start, ``f`` the fraction of the budget used.  The
        model ends in the best validated state (the last one without validation).

        Returns
        -------
        dict
            ``"train"`` (per-step entries with ``"step"`` and ``"seconds"``), ``"validation"``
            (``(step, value[, detail])``), ``"best"`` (``(step, value)`` or None).
        """
        from ..solvers._loop import progress_bar

        check_budget(steps, time_limit)
        if not 0 < decay <= 1:
            raise ValueError(f"decay must be in (0, 1], got {decay}")
        history, total = self.history, steps if steps is not None else 10**9
        bar = progress_bar((steps - self.done) if steps is not None else None, progress, description)
        start = time.perf_counter()
        k = self.done
        while k < total:
            elapsed = self.elapsed + time.perf_counter() - start
            if time_limit is not None and elapsed >= time_limit:
                break
            frac = elapsed / time_limit if time_limit is not None else k / max(total, 1)
            if steps is not None and time_limit is not None:
                frac = max(frac, k / max(total, 1))
            for g, base in zip(self.optimizer.param_groups, self.base_lrs):
                g["lr"] = base * decay ** min(frac, 1.0)
            entry = step(k)
            k += 1
            entry = dict({"step": k}, **entry, seconds=self.elapsed + time.perf_counter() - start)
            history["train"].append(entry)
            if log is not None:
                log(entry)
            bar.update()
            if validate is not None and validate_every and (k % validate_every == 0 or k == total):
                self._validate(k, validate, log)
            if checkpoint_every and k % checkpoint_every == 0:
                self.save(k, self.elapsed + time.perf_counter() - start)
        bar.close()
        if validate is not None and validate_every and k > 0 and (
                not history["validation"] or history["validation"][-1][0] != k):
            self._validate(k, validate, log)
        self.save(k, self.elapsed + time.perf_counter() - start)
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        return history
