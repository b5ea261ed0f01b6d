"""Row blocks on threads (block_threads) and MultiConvolution's NumPy path run on them: same results as the
standard-only path, step order, errors raised in the caller, the BLAS limit restored."""
import threading

import numpy as np
import pytest

from recon.operators import MultiConvolution, _multiconv_planes, block_threads, dottest
from tests.helpers.multiconv import _channel_fn, _mixed_kernels, _standard


@pytest.fixture
def three_threads(monkeypatch):
    """Every image parallel, small blocks, three threads whatever the BLAS says."""
    monkeypatch.setattr(_multiconv_planes, "_PARALLEL_PIXELS", 0)
    monkeypatch.setattr(_multiconv_planes, "_BLOCK_ELEMENTS", 1)  # one row a block: many blocks to share
    monkeypatch.setattr(block_threads, "blas_threads", lambda: 3)


@pytest.mark.parametrize("layout", [((1, 4, 8, 6), (5, 5, 5)), ((2, 3, 4), (5, 3)), ((1, 2), (3,))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threaded_path_equals_standard_path(layout, dtype, three_threads):
    channels, sizes = layout
    ks = [k.astype(dtype) for k in _mixed_kernels(channels, sizes, seed=7)]
    W = MultiConvolution(ks, (23, 14))
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal(W.shape_in).astype(dtype), rng.standard_normal(W.shape_out).astype(dtype)
    seen = set()

    def fn(z):
        seen.add(threading.get_ident())
        return _channel_fn(z)

    tol = 1e-5 if dtype == np.float32 else 1e-13
    for _ in range(2):
        for got, want in ((W(x), _standard(W, "__call__", x)), (W.adjoint(y), _standard(W, "adjoint", y)),
                          (W.sandwich(x, fn), _standard(W, "sandwich", x, _channel_fn))):
            assert got.dtype == dtype
            assert np.max(np.abs(got - want)) <= tol * max(1.0, np.max(np.abs(want)))
    assert len(W._planes[np.dtype(dtype)][0].scratch) == 3
    assert dottest(W, dtype=dtype) <= 10 * tol
    assert len(seen) >= 1  # which threads take blocks is up to the scheduler; the results may not depend on it


def test_steps_run_in_order_with_then_between():
    events, lock = [], threading.Lock()

    def task(step, k):
        def run(scratch):
            with lock:
                events.append(("task", step, k, scratch))
        return run

    steps = [([task(i, k) for k in range(7)], (lambda i=i: events.append(("then", i))) if i != 1 else None)
             for i in range(3)]
    block_threads.run_steps(steps, ["a", "b", "c"])
    order = [(e[0], e[1]) for e in events]
    for i in range(3):
        tasks_at = [j for j, e in enumerate(order) if e == ("task", i)]
        assert len(tasks_at) == 7
        assert sorted(e[2] for e in events if e[:2] == ("task", i)) == list(range(7))
        if i != 1:
            assert all(j < order.index(("then", i)) for j in tasks_at)
        if i < 2:
            assert max(tasks_at) < min(j for j, e in enumerate(order) if e == ("task", i + 1))
    assert {e[3] for e in events if e[0] == "task"} <= {"a", "b", "c"}


@pytest.mark.parametrize("where", ["task", "then"])
@pytest.mark.parametrize("threads", [1, 3])
def test_errors_are_raised_in_the_caller(where, threads):
    ran = []

    def bad(*_):
        raise ValueError(f"bad {where}")

    steps = [([bad if where == "task" and k == 4 else (lambda s: None) for k in range(9)],
              bad if where == "then" else None),
             ([lambda s: ran.append(1)], None)]
    with pytest.raises(ValueError, match=f"bad {where}"):
        block_threads.run_steps(steps, list(range(threads)))
    assert not ran  # the next step never starts


def _needs_blas_control():
    pytest.importorskip("threadpoolctl")
    if block_threads._blas_controller() is None:
        pytest.skip("no BLAS that threadpoolctl can set")


def test_single_threaded_blas_one_run_at_a_time_restores_the_setting():
    _needs_blas_control()
    before = block_threads.blas_threads()
    gate = threading.Barrier(2)
    seen = []

    def run():
        with block_threads.single_threaded_blas() as single:
            gate.wait()  # both inside at once
            seen.append((single, block_threads.blas_threads()))
            with block_threads.single_threaded_blas() as inner:
                seen.append((inner, block_threads.blas_threads()))
            gate.wait()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == [(False, 1)] * 3 + [(True, 1)]  # one holder; the others see its limit
    assert block_threads.blas_threads() == before
    with block_threads.single_threaded_blas() as single:  # and the lock is free again
        assert single


def test_single_threaded_blas_says_when_it_could_not():
    """Under another thread's threadpool_limits (threadpoolctl 3.8+ ignores this thread's limits) it yields False."""
    _needs_blas_control()
    from threadpoolctl import threadpool_limits

    seen = []

    def helper():
        with block_threads.single_threaded_blas() as single:
            seen.append((single, block_threads.blas_threads()))

    with threadpool_limits(2, user_api="blas"):
        t = threading.Thread(target=helper)
        t.start()
        t.join()
        assert block_threads.blas_threads() == 2
    (single, inside), = seen
    assert single == (inside == 1)


def test_without_threadpoolctl_everything_runs_on_the_calling_thread(monkeypatch):
    monkeypatch.setattr(block_threads, "_controller", [None])
    monkeypatch.setattr(_multiconv_planes, "_PARALLEL_PIXELS", 0)
    assert block_threads.blas_threads() == 1
    with block_threads.single_threaded_blas():
        pass
    ks = _mixed_kernels((1, 3, 5), (5, 5))
    W = MultiConvolution(ks, (12, 9))
    x = np.random.default_rng(9).standard_normal((12, 9))
    callers = set()

    def fn(z):
        callers.add(threading.get_ident())
        return np.tanh(z)

    W.sandwich(x, fn)
    assert callers == {threading.get_ident()}
