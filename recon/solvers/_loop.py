r"""The iteration driver every solver shares: history, progress bar, stopping, the :class:`Result`.

A solver owns its state and its update; :class:`Loop` owns the rest, so the ending of every
iteration (record, test ``tol``, ask the callback, update the progress bar, build the result)
is written once.  The state need not be one array, the stopping quantity need not be the
relative change, and the result may be a subclass of :class:`Result` with fields of its own.

Usage
-----
::

    from recon.solvers._loop import Loop

    loop = Loop("pgd", iters, tol=tol, record_every=record_every, callback=callback, progress=progress)
    for k in loop:                       # k = 1, 2, ..., iters
        x_new = update(x)
        if loop.recording:               # k % record_every == 0 or k == iters
            change = relative_change(x_new, x)
            loop.record(relative_change=change, objective=F(x_new))
            if loop.below_tol(change):   # tol > 0 and change <= tol: converged, message set
                x = x_new
                break
        x = x_new
        if loop.callback_stops(x):       # callback(k, x) returned True
            break
    return loop.result(x, extras={"step": step})

Other states and stopping rules::

    # ptychography: the callback sees what the engine chooses; the Result is a subclass
    loop = Loop("rPIE", iters, tol=0, callback=callback)
    for k in loop:
        obj, probe, positions = sweep(obj, probe, positions)
        err = fourier_error(...)
        loop.record(error=err)
        if loop.below_tol(err, "Fourier error", tol=err_tol):   # any quantity, any threshold
            break
        if loop.callback_stops(obj, probe):                     # calls callback(k, obj, probe)
            break
    return loop.result(obj, cls=PtychoResult, probe=probe, positions=positions)

    # a stop that is not convergence (a diverging inner step, an empty iterate)
    loop.stop("T(u) vanished", converged=False); break

Methods
-------
``Loop(name, iters, *, tol=0.0, record_every=1, callback=None, progress=False, message=None)``
    Validates ``iters`` and ``record_every`` (positive ints), ``tol`` (finite, >= 0) and
    ``callback`` (callable or None).  ``name`` labels the progress bar; ``message`` is the
    result's message when all ``iters`` run (default ``"reached iters = <iters>"``).
``for k in loop``
    Iterations ``1..iters``; ``loop.k`` is the current one.  The bar advances after each; a bar
    is closed when the loop ends (also by ``break`` or an exception) and by :meth:`result`.
``loop.recording`` -> bool
    Whether iteration ``k`` is a recording one (``k % record_every == 0 or k == iters``).
``loop.record(*, iteration=None, **values)``
    Append a row to ``loop.history`` (``iteration`` defaults to ``k``); a ``relative_change``
    value is shown on the bar.
``loop.below_tol(value, label="relative change", *, tol=None) -> bool``
    Stop (converged) when ``tol > 0`` and ``value <= tol`` (``tol`` defaults to the loop's).
``loop.stop(message, *, converged=True) -> True``
    Stop for any other reason.
``loop.callback_stops(*args, converged=True, **kwargs) -> bool``
    Call ``callback(k, *args, **kwargs)``; ``True`` from it stops (message ``"stopped by callback"``).
    A caller that wants another signature wraps the user's callback before handing it over.
``loop.result(x, *, extras=None, cls=Result, **fields)``
    ``cls(x, iterations, converged, history, message, extras, **fields)``.
"""
from __future__ import annotations

from .._checks import callable_or_none, finite, positive_int
from .result import History, Result

__all__ = ["Loop", "progress_bar"]


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


class Loop:
    """Iteration driver: history, progress bar, ``tol`` and callback stopping, the :class:`Result`.

    See the module docstring for the protocol and examples.
    """

    def __init__(self, name: str, iters: int, *, tol: float = 0.0, record_every: int = 1, callback=None,
                 progress: bool = False, message: str | None = None):
        self.name = name
        self.iters = positive_int(iters, "iters")
        self.record_every = positive_int(record_every, "record_every")
        self.tol = finite(tol, "tol", ge=0)
        self.callback = callable_or_none(callback, "callback")
        self.progress = bool(progress)
        self.history = History()
        self.k = 0
        self.converged = False
        self.stopped = False
        self.message = f"reached iters = {self.iters}" if message is None else message
        self._bar = None

    def __iter__(self):
        self._bar = progress_bar(self.iters, self.progress, self.name)
        try:
            for k in range(1, self.iters + 1):
                self.k = k
                yield k
                if self.stopped:  # stop() already advanced the bar
                    return
                self._bar.update(1)
        finally:
            self._close()

    def _close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    @property
    def recording(self) -> bool:
        """Whether the current iteration records (every ``record_every`` and the last)."""
        return self.k % self.record_every == 0 or self.k == self.iters

    def record(self, *, iteration: int | None = None, **values) -> None:
        """Append ``values`` to the history at ``iteration`` (default: the current one)."""
        self.history.record(self.k if iteration is None else iteration, **values)
        if self._bar is not None and "relative_change" in values:
            self._bar.set_postfix(change=f"{values['relative_change']:.2e}")

    def stop(self, message: str, *, converged: bool = True) -> bool:
        """End the run after this iteration with ``message``; returns ``True`` (``if ...: break``)."""
        if not self.stopped and self._bar is not None:
            self._bar.update(1)
        self.stopped, self.converged, self.message = True, bool(converged), message
        return True

    def below_tol(self, value: float, label: str = "relative change", *, tol: float | None = None) -> bool:
        """Stop, converged, when ``tol > 0`` and ``value <= tol``; ``tol`` defaults to the loop's."""
        tol = self.tol if tol is None else tol
        if tol > 0 and value <= tol:
            return self.stop(f"{label} {value:.3g} <= tol = {tol:g}")
        return False

    def callback_stops(self, *args, converged: bool = True, **kwargs) -> bool:
        """Ask ``callback(k, *args, **kwargs)``; ``True`` from it stops the run."""
        if self.callback is not None and self.callback(self.k, *args, **kwargs):
            return self.stop("stopped by callback", converged=converged)
        return False

    def result(self, x, *, extras: dict | None = None, cls=Result, **fields):
        """The run's :class:`Result` (or ``cls``, a subclass, with extra ``fields``)."""
        self._close()
        return cls(x, self.k, self.converged, dict(self.history), self.message,
                   {} if extras is None else dict(extras), **fields)
