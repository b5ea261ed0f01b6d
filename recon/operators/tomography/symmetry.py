r"""Symmetries of the pixel grid that map projection angles to projection angles.

A pixel grid centred on the rotation axis is invariant under the flips :math:`x \mapsto -x`,
:math:`y \mapsto -y` and, when square, the swap :math:`x \leftrightarrow y`: the eight signed
permutations :math:`G` of the dihedral group :math:`D_4` (four for a non-square grid).  Since
:math:`t_\theta(G\mathbf x) = c + \langle G\mathbf x, (\cos\theta, \sin\theta)\rangle
= c + \langle \mathbf x, G^\top(\cos\theta, \sin\theta)\rangle`, the projection at the angle
:math:`\theta_b` with :math:`(\cos\theta_b, \sin\theta_b) = G^\top(\cos\theta_a, \sin\theta_a)` sees
pixel :math:`\mathbf x` where angle :math:`\theta_a` sees pixel :math:`G\mathbf x`: e.g.
:math:`\pi - \theta` (flip columns), :math:`-\theta` (flip rows), :math:`\theta + \pi` (both),
:math:`\theta \pm \pi/2` and :math:`\pm\pi/2 - \theta` (transposes).  Uniform angles over
:math:`[0, \pi)` come in orbits of four (two for non-square images), over :math:`[0, 2\pi)` in orbits
of eight (four).

:class:`~recon.operators.tomography.Radon` groups its angles into such orbits and *defines* the fixed-point
detector positions of every member as those of its orbit's first angle at the pixel :math:`G\mathbf x`
(so the relation holds exactly, not up to rounding; they also equal the member's own rounded
positions unless a rounding tie or an ulp of :math:`\cos, \sin` differs).  A whole orbit is then
backprojected with one gather at the first angle's indices, the values moved to their pixels by
:func:`pull` once at the end, and projected with one scatter of the images moved by :func:`push`.
"""
from __future__ import annotations

import numpy as np

from ...backend import array_namespace

# (g11, g12, g21, g22): x' = g11 x + g12 y, y' = g21 x + g22 y.  Identity first; the swaps last
# (square grids only).
ELEMENTS = (
    (1, 0, 0, 1), (-1, 0, 0, 1), (1, 0, 0, -1), (-1, 0, 0, -1),
    (0, 1, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, -1, -1, 0),
)


def _keys(c, s):
    """``[(c_a, s_a), ...]`` rounded to 1e-9 (``+ 0.0`` turns -0 into 0) as hashable tuples."""
    return list(zip((np.round(c, 9) + 0.0).tolist(), (np.round(s, 9) + 0.0).tolist()))


def orbits(theta, square: bool):
    r"""Angle indices grouped into orbits, and the orbits grouped by which elements they contain.

    Returns ``[(elements, members), ...]``: ``elements`` a tuple of :data:`ELEMENTS` entries
    starting with the identity, ``members`` an int64 array of shape ``(n_orbits, len(elements))``
    whose column ``t`` holds the angle :math:`G_t^\top`-related to column 0.  Every angle appears
    exactly once.  Matching is on :math:`(\cos, \sin)` rounded to 1e-9.
    """
    elements = ELEMENTS if square else ELEMENTS[:4]
    cos, sin = np.cos(theta), np.sin(theta)
    own = _keys(cos, sin)
    # the key each element maps every angle to, computed once (a Python loop over angles and elements is slow)
    image = [_keys(g[0] * cos + g[2] * sin, g[1] * cos + g[3] * sin) for g in elements[1:]]
    free = {}
    for a, key in enumerate(own):
        free.setdefault(key, []).append(a)
    taken = np.zeros(len(theta), dtype=bool)
    classes = {}
    for a, key in enumerate(own):
        if taken[a]:
            continue
        taken[a] = True
        free[key].remove(a)
        found, members = [elements[0]], [a]
        for g, keys in zip(elements[1:], image):
            candidates = free.get(keys[a], [])
            if candidates:
                b = candidates.pop(0)
                taken[b] = True
                found.append(g)
                members.append(b)
        classes.setdefault(tuple(found), []).append(members)
    return [(g, np.asarray(m, dtype=np.int64)) for g, m in classes.items()]


def pull(v, g):
    r"""``B`` with :math:`B(\mathbf x) = V(G\mathbf x)`: an image read at the orbit's first angle's
    positions, moved to the pixels of the member related by ``g``."""
    xp = array_namespace(v)
    g11, g12, g21, g22 = g
    if g12 == 0:
        if g22 == -1:
            v = xp.flip(v, axis=0)
        return xp.flip(v, axis=1) if g11 == -1 else v
    # B(i, j) = V(i'(j), j'(i)): transpose, then flip the axes whose map reverses
    v = xp.permute_dims(v, (1, 0))
    if g12 == 1:
        v = xp.flip(v, axis=0)
    return xp.flip(v, axis=1) if g21 == 1 else v


def push(u, g):
    r"""The transpose of :func:`pull` (a permutation, so its inverse): :math:`U(G\mathbf x) = u(\mathbf x)`."""
    xp = array_namespace(u)
    g11, g12, g21, g22 = g
    if g12 == 0:
        return pull(u, g)  # flips are their own inverses
    if g21 == 1:
        u = xp.flip(u, axis=1)
    if g12 == 1:
        u = xp.flip(u, axis=0)
    return xp.permute_dims(u, (1, 0))
