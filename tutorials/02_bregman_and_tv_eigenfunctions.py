# %% [markdown]
# # Tutorial 2 — Losing and regaining contrast: Bregman iterations, TV eigenfunctions, spectral TV
#
# TV denoising of a disk of height 1 and radius $r$ returns a disk of height $1 - 2\lambda/r$: the disk is an
# *eigenfunction* of TV, which the prox shrinks without changing its shape. This tutorial measures that law,
# undoes the loss with Bregman iterations, computes eigenfunctions with the nonlinear power method, and
# decomposes an image into TV "scales". Run as a script or as a notebook (jupytext); figures go to
# `tutorial-figures/` (or `$RECON_TUTORIAL_OUT`).

# %%
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from recon.apps import band_pass, tv_spectral_decomposition
from recon.apps.eigen import tv_eigenfunction
from recon.functionals import TV
from recon.solvers import bregman

out = os.environ.get("RECON_TUTORIAL_OUT", "tutorial-figures")
os.makedirs(out, exist_ok=True)
n = 64
yy, xx = np.mgrid[:n, :n] - (n - 1) / 2


def disk(r, cy=0.0, cx=0.0):
    return (((yy - cy) ** 2 + (xx - cx) ** 2) <= r**2).astype(float)


# %% [markdown]
# ## 1. The contrast law
# For a disk, perimeter/area $= 2/r$, so TV with weight $\lambda$ lowers the height by $2\lambda/r$.

# %%
tv = TV(inner_tol=1e-6, inner_iters=3000)
for r in (8, 12, 16):
    u = disk(r)
    height = tv.prox(u, 1.0)[u > 0].mean()
    print(f"r = {r:2d}: height after TV(weight 1) = {height:.3f}, continuum law 1 - 2/r = {1 - 2 / r:.3f}")

# %% [markdown]
# ## 2. Bregman iterations give the contrast back
# $x_{k+1} = \operatorname{prox}_{\lambda\mathrm{TV}}(b_k)$, $b_{k+1} = b_k + (y - x_{k+1})$: the residual is
# added back to the data. With noise, stop by the **discrepancy principle**, $\|x_k - y\| \le \|\text{noise}\|$.

# %%
u = disk(12)
noise = 0.1 * np.random.default_rng(0).standard_normal(u.shape)
y = u + noise
path = bregman(None, y, TV(inner_tol=1e-5, inner_iters=2000), tau=0.5, iters=15, tol=0, keep_iterates=True)
errors = [np.linalg.norm(x - u) for x in path.extras["iterates"]]
stopped = bregman(None, y, TV(inner_tol=1e-5, inner_iters=2000), tau=0.5, iters=15,
                  noise_level=float(np.linalg.norm(noise)))
print(f"discrepancy principle stops at step {stopped.iterations}; the error is smallest at step "
      f"{int(np.argmin(errors)) + 1}")
fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
axes[0].imshow(y, cmap="gray")
axes[0].set_title("noisy disk")
axes[1].imshow(path.extras["iterates"][0], cmap="gray", vmin=0, vmax=1)
axes[1].set_title("step 1 = plain TV")
axes[2].imshow(stopped.x, cmap="gray", vmin=0, vmax=1)
axes[2].set_title(f"step {stopped.iterations} (discrepancy)")
axes[3].plot(range(1, len(errors) + 1), errors, marker=".")
axes[3].axvline(stopped.iterations, color="k", ls="--")
axes[3].set(xlabel="Bregman step", ylabel="||x_k - u||", title="noise comes back")
for ax in axes[:3]:
    ax.set_axis_off()
fig.tight_layout()
fig.savefig(f"{out}/02_bregman.png", dpi=80)

# %% [markdown]
# ## 3. Eigenfunctions by the nonlinear power method
# $u \leftarrow \operatorname{prox}_{t\mathrm{TV}}(u)/\|\cdot\|$ from a square: the corners round off, the
# Rayleigh quotient $\mathrm{TV}(u)/\|u\|$ decreases monotonically, and the limit is an eigenfunction.

# %%
square = np.zeros((32, 32))
square[8:24, 8:24] = 1.0
eig = tv_eigenfunction(square, iters=200)
print(f"{eig.message}; eigenvalue {eig.extras['eigenvalue']:.4f}")
fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
axes[0].imshow(eig.x, cmap="gray")
axes[0].set_title("eigenfunction from a square")
axes[0].set_axis_off()
axes[1].plot(eig.history["iteration"], eig.history["rayleigh"], marker=".")
axes[1].set(xlabel="iteration", ylabel="TV(u)/||u||", title="Rayleigh quotient")
fig.tight_layout()
fig.savefig(f"{out}/02_eigenfunction.png", dpi=80)

# %% [markdown]
# ## 4. Spectral TV: which scales does TV remove, and when?
# The TV flow removes a disk of radius $r$ at time $t \approx r/2$. Filtering the spectral components
# $\phi(t) = t\,u''(t)$ separates a small and a large disk. Look closely at the small band: the
# staircase corners of the pixelated large disk are removed early too — on a pixel grid a "disk" is only
# nearly an eigenfunction.

# %%
f = disk(4, -14, -14) + disk(12, 8, 8)
d = tv_spectral_decomposition(f, dt=0.1, iters=800)
small, large = band_pass(d, 0, 4.0, mean=False), band_pass(d, 4.0, np.inf, mean=False)
fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
axes[0].imshow(f, cmap="gray")
axes[0].set_title("image")
axes[1].plot(d.times, d.spectrum)
axes[1].set(xlabel="t", ylabel="S(t)", title="TV spectrum")
axes[2].imshow(small, cmap="gray")
axes[2].set_title("band t < 4")
axes[3].imshow(large, cmap="gray")
axes[3].set_title("band t >= 4")
for ax in (axes[0], axes[2], axes[3]):
    ax.set_axis_off()
fig.tight_layout()
fig.savefig(f"{out}/02_spectral.png", dpi=80)

# %% [markdown]
# ## Exercises
# 1. Repeat part 1 with `TV(isotropic=False)`: which shape is the eigenfunction of anisotropic TV?
# 2. In part 2, make `tau` ten times smaller: how does the Bregman path change?
# 3. In part 4, add noise to `f`: where in the spectrum does it appear?
