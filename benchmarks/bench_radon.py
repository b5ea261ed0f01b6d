"""Radon forward + adjoint: recon.operators.Radon against astra-toolbox's CPU ``linear`` projector.

Both run single-threaded on the same arrays in the same process, interleaved, best of ``--repeat``
runs each.  astra's ``linear`` projector is Joseph's ray-driven method; recon's is pixel-driven
linear interpolation: different discretisations of the same transform with the same geometry
(astra's parallel geometry with detector width 1 and ``n_detectors`` bins is recon's default centre;
astra's angles and sinogram layout ``(angles, detectors)`` are recon's).  If astra is not installed,
skimage's radon/iradon (unfiltered) is the peer, and ``peer`` says so.

One JSON line per case: ``recon_s`` (forward + adjoint, seconds), ``peer_s``, ``speedup`` =
peer_s / recon_s, and the correlation of the two sinograms (sanity check that both compute
the same transform), and ``peak_rss_mb``, the process's peak resident memory so far (both
libraries, all cases up to this one: an upper bound for recon's).

    python benchmarks/bench_radon.py [--repeat 7] [--sizes 256:180,512:720] [--backend numpy|cupy] [--quick]

``--backend cupy`` runs recon's pair on the GPU (timed to the end of the GPU work); the peer gets NumPy
copies.  ``--quick`` is ``--sizes 32:16 --repeat 1``.
"""
import argparse
import json
import resource
import time

import numpy as np
from backends import add_arguments, describe, select, sync, to_backend, to_host

from recon.operators import Radon


def _astra_pair(shape, angles, n_det):
    import astra

    vol = astra.create_vol_geom(shape[0], shape[1])
    proj = astra.create_proj_geom("parallel", 1.0, n_det, angles)
    pid = astra.create_projector("linear", proj, vol)

    def forward(u):
        i, s = astra.create_sino(u, pid)
        astra.data2d.delete(i)
        return s

    def adjoint(q):
        i, r = astra.create_backprojection(q, pid)
        astra.data2d.delete(i)
        return r

    return "astra-toolbox linear (CPU)", forward, adjoint


def _skimage_pair(shape, angles, n_det):
    from skimage.transform import iradon, radon

    deg = np.degrees(angles)

    def forward(u):
        return radon(u, deg, circle=False).T

    def adjoint(q):
        return iradon(q.T, deg, filter_name=None, circle=False, output_size=shape[0])

    return "skimage radon/iradon(filter_name=None)", forward, adjoint


def _best(fn, arg, best):
    t0 = time.perf_counter()
    out = fn(arg)
    sync()
    return min(best, time.perf_counter() - t0), out


def _correlation(a, b):
    """Correlation of two sinograms (angles, detectors), on the centred common detector range if the counts differ."""
    d = min(a.shape[1], b.shape[1])
    a = a[:, (a.shape[1] - d) // 2:][:, :d]
    b = b[:, (b.shape[1] - d) // 2:][:, :d]
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def _peak_rss_mb():
    """Peak resident set size of this process so far, MB (Linux reports KB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sizes", default="256:180,512:720", help="comma-separated n:angles")
    add_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeat = "32:16", 1
    select(args.backend)
    try:
        import astra  # noqa: F401

        make_peer = _astra_pair
    except ImportError:
        make_peer = _skimage_pair
    rng = np.random.default_rng(0)
    for case in args.sizes.split(","):
        n, n_angles = (int(v) for v in case.split(":"))
        angles = np.linspace(0.0, np.pi, n_angles, endpoint=False)
        A = Radon((n, n), angles)
        name, pf, pb = make_peer((n, n), angles, A.n_detectors)
        u_host = rng.random((n, n), dtype=np.float32)
        q_host = rng.random(A.shape_out, dtype=np.float32)
        u, q = to_backend(u_host), to_backend(q_host)
        A.adjoint(A(u)), A.adjoint(A(u))  # second use builds the geometry cache
        pb(pf(u_host))
        best = dict(rf=np.inf, ra=np.inf, pf=np.inf, pa=np.inf)
        for _ in range(args.repeat):
            best["rf"], ours = _best(A, u, best["rf"])
            best["ra"], _ = _best(A.adjoint, q, best["ra"])
            best["pf"], theirs = _best(pf, u_host, best["pf"])
            best["pa"], _ = _best(pb, q_host, best["pa"])
        recon_s, peer_s = best["rf"] + best["ra"], best["pf"] + best["pa"]
        print(json.dumps({
            "case": f"radon forward+adjoint {n}x{n}, {n_angles} angles, float32", **describe(),
            "recon_s": round(recon_s, 4), "recon_forward_s": round(best["rf"], 4),
            "recon_adjoint_s": round(best["ra"], 4),
            "peer": name, "peer_s": round(peer_s, 4), "peer_forward_s": round(best["pf"], 4),
            "peer_adjoint_s": round(best["pa"], 4), "speedup": round(peer_s / recon_s, 2),
            "sinogram_correlation": round(_correlation(to_host(ours), theirs), 5),
            "peak_rss_mb": _peak_rss_mb(),
        }))


if __name__ == "__main__":
    main()
