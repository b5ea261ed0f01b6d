r"""Row-block tasks on several threads, each with a single-threaded BLAS.

The NumPy path of :class:`~recon.operators.MultiConvolution` is a few hundred small matrix products
(one per block of rows, sized to stay in cache) with compiled kernels between them.  Left to a
multithreaded BLAS, only the products run in parallel, and each one hands half of its work to the
BLAS's other threads and waits for them: on a machine shared with other jobs, where a thread can
wait milliseconds for a core, those hand-offs cost more than the products (measured: 4-7 s instead
of 0.3 s for one 512×512 WCRR gradient on 2 busy cores).  Here instead whole blocks go to
whichever thread is free, each block's product runs on its own thread's single-threaded BLAS, and
threads meet only between layers; a preempted thread holds up one block, not every product.

The number of threads is the BLAS's own setting (what ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``
or ``threadpoolctl.threadpool_limits`` chose), read through `threadpoolctl`_; during a parallel
run the BLAS is set to one thread and set back afterwards (process-wide: another thread's BLAS
calls in that time run on one thread).  Where that cannot be done (threadpoolctl missing, or another
thread holding threadpoolctl's control of OpenBLAS), everything runs on the calling thread and the
BLAS threads each product as usual.

.. _threadpoolctl: https://github.com/joblib/threadpoolctl
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

__all__ = ["blas_threads", "single_threaded_blas", "run_steps"]

_controller = []  # [threadpoolctl.ThreadpoolController or None], filled at the first call
_run_lock = threading.Lock()  # held by the one parallel run that limits the BLAS


def _blas_controller():
    if not _controller:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _controller.append(None)
        else:
            controller = ThreadpoolController().select(user_api="blas")
            _controller.append(controller if controller.lib_controllers else None)
    return _controller[0]


def blas_threads() -> int:
    """Threads the BLAS would use now (1 without threadpoolctl, or while a parallel run holds it at 1)."""
    controller = _blas_controller()
    if controller is None:
        return 1
    return max(1, max(lib.num_threads for lib in controller.lib_controllers))


@contextmanager
def single_threaded_blas():
    """The BLAS on one thread inside the block, for one parallel run at a time; yields whether it is.

    It is not where threadpoolctl is missing, where another parallel run holds the limit (that run
    set the BLAS to one thread already, and restores it itself: threadpoolctl ignores a restore from
    another thread while the setting thread lives), or where another thread holds threadpoolctl's
    control of a process-wide OpenBLAS pool (threadpoolctl 3.8+ ignores the limits of other
    threads inside one thread's ``threadpool_limits``).  Callers then run on one thread.
    """
    controller = _blas_controller()
    if controller is None or not _run_lock.acquire(blocking=False):
        yield False
        return
    try:
        with controller.limit(limits=1):
            yield blas_threads() == 1
    finally:
        _run_lock.release()


def run_steps(steps, scratches):
    """Run ``steps`` in order on ``len(scratches)`` threads (the caller's one of them).

    Each step is ``(tasks, then)``: ``task(scratch)`` for every task, taken in order by whichever
    thread is free (each thread passes its own scratch), then ``then()`` (or nothing if ``None``)
    once all the step's tasks are done, before the next step starts.  An exception in a task stops
    the run and is raised here.
    """
    if len(scratches) == 1:
        for tasks, then in steps:
            for task in tasks:
                task(scratches[0])
            if then is not None:
                then()
        return
    lock = threading.Lock()
    taken = [0] * len(steps)
    errors = []
    thens = iter([then for _, then in steps])

    def between_steps():  # run by one thread while the others wait at the barrier
        then = next(thens)
        if then is not None and not errors:
            try:
                then()
            except BaseException as err:
                errors.append(err)

    barrier = threading.Barrier(len(scratches), action=between_steps)

    def work(scratch):
        try:
            for i, (tasks, _) in enumerate(steps):
                while not errors:
                    with lock:
                        k = taken[i]
                        taken[i] += 1
                    if k >= len(tasks):
                        break
                    tasks[k](scratch)
                barrier.wait()
        except threading.BrokenBarrierError:
            pass
        except BaseException as err:
            errors.append(err)
            barrier.abort()

    helpers = [threading.Thread(target=work, args=(s,), daemon=True) for s in scratches[1:]]
    for t in helpers:
        t.start()
    work(scratches[0])
    for t in helpers:
        t.join()
    if errors:
        raise errors[0]
