"""The iteration driver: recording, tol and callback stopping, custom stops, Result subclasses, validation."""
from dataclasses import dataclass

import pytest

from recon.solvers import Result
from recon.solvers._loop import Loop


def test_runs_all_iterations_and_records_every_and_last():
    loop = Loop("t", 7, record_every=3)
    seen = []
    for k in loop:
        seen.append(k)
        if loop.recording:
            loop.record(value=k * 1.0)
    res = loop.result("x")
    assert seen == list(range(1, 8))
    assert res.history == {"iteration": [3, 6, 7], "value": [3.0, 6.0, 7.0]}
    assert res.iterations == 7 and not res.converged and res.message == "reached iters = 7"


def test_tol_stop_on_any_quantity():
    loop = Loop("t", 100, tol=1e-3)
    for k in loop:
        gap = 10.0 ** -k
        loop.record(gap=gap)
        if loop.below_tol(gap, "duality gap"):
            break
    res = loop.result(None)
    assert res.converged and res.iterations == 3 and res.message == "duality gap 0.001 <= tol = 0.001"
    assert not Loop("t", 3, tol=0).below_tol(0.0)  # tol = 0 switches the test off


def test_callback_adapted_signature_and_extras():
    calls = []
    loop = Loop("t", 10, callback=lambda k, obj, probe: calls.append((k, obj, probe)) or k == 2)
    state = (0, 0)
    for _ in loop:
        state = (state[0] + 1, state[1] - 1)
        if loop.callback_stops(*state):
            break
    res = loop.result(state[0], extras={"probe": state[1]})
    assert calls == [(1, 1, -1), (2, 2, -2)] and res.iterations == 2 and res.converged
    assert res.extras == {"probe": -2} and res.message == "stopped by callback"


def test_custom_stop_and_result_subclass():
    @dataclass(repr=False)
    class Sub(Result):
        probe: object = None

    loop = Loop("t", 5, message="no extinction")
    for k in loop:
        if k == 3 and loop.stop("vanished", converged=False):
            break
    res = loop.result(1.0, cls=Sub, probe="p")
    assert isinstance(res, Sub) and res.probe == "p" and res.iterations == 3 and not res.converged
    assert res.message == "vanished"
    untouched = Loop("t", 2, message="no extinction")
    for _ in untouched:
        pass
    assert untouched.result(0).message == "no extinction"


def test_progress_bar_closes_on_break():
    pytest.importorskip("tqdm")
    loop = Loop("t", 50, progress=True)
    for k in loop:
        if k == 5:
            break
    assert loop.result(0).iterations == 5


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(iters=0), ValueError, "iters must be a positive int, got 0"),
    (dict(iters=3, record_every=1.5), ValueError, "record_every must be a positive int"),
    (dict(iters=3, tol=-1), ValueError, "tol must be a finite number >= 0, got -1.0"),
    (dict(iters=3, callback=3), TypeError, "callback must be callable or None, got int"),
])
def test_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        Loop("t", **kwargs)
