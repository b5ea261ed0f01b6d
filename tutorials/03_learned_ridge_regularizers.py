# %% [markdown]
# # Tutorial 3 — Learned ridge regularizers: CRR-NN and WCRR-NN
#
# A *ridge regularizer* sums a learned scalar profile over the responses of learned filters,
# $$R(x) = \sum_{c}\sum_{p} \psi_c\big((Wx)_{c,p}\big),$$
# with $W$ a stack of small convolutions (here $1 \to 4 \to 8 \to 60$ channels of $5\times5$ filters,
# about 13 000 weights) and $\psi_c' = \varphi$ a learned linear spline (Goujon et al. 2023, 2024).
# * **CRR-NN**: $\varphi$ non-decreasing, so every $\psi_c$ and hence $R$ is **convex**, with an
#   $L$-Lipschitz gradient $\nabla R(x) = W^\top \varphi(Wx)$.
# * **WCRR-NN**: $\varphi = \mu\varphi_{\mathrm{cvx}} - \varphi_{\mathrm{ccv}}$ with slopes $\ge -1$ and
#   $\|W\| = 1$, so $R + \tfrac12\|\cdot\|^2$ is convex: $R$ is **1-weakly convex**. Denoising,
#   $\min_x \tfrac12\|x - y\|^2 + R(x)$, is then still a convex problem with a unique solution.
#
# Both were trained by recon itself on BSD patches for every noise level $\sigma \in [0, 30]/255$ and ship
# inside the package (`recon/learned/models/`, the model cards there give the commands and Set12 PSNR); they
# are what `reg="crr"` / `reg="wcrr"` mean, and need neither torch nor the shared data folder. Run as a
# script or open with jupytext; figures go to `tutorial-figures/`. `RECON_TUTORIAL_QUICK=1` runs every step
# on a 48×48 crop with fewer noise levels and iterations (the test suite's quick run; about 10× faster).

# %%
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import recon
from recon.learned import load_shipped
from recon.operators import gaussian_kernel

out = os.environ.get("RECON_TUTORIAL_OUT", "tutorial-figures")
os.makedirs(out, exist_ok=True)
quick = os.environ.get("RECON_TUTORIAL_QUICK", "0") not in ("", "0")
size = int(os.environ.get("RECON_TUTORIAL_SIZE", "48" if quick else "128"))
trials = 20 if quick else 100  # random pairs of the convexity check
tol = 1e-3 if quick else None  # the ridge denoiser's stopping tolerance (None: recon.denoise's 1e-4)
deblur_iters = 40 if quick else 300  # recon.deblur's default is 300
rng = np.random.default_rng(0)
i0, j0 = min(60, 512 - size), min(190, 512 - size)  # a native-resolution crop: the models saw unscaled photos
clean = np.asarray(recon.data.camera()[i0 : i0 + size, j0 : j0 + size], dtype=np.float64)


def psnr(x):
    return recon.metrics.psnr(x, clean, data_range=1.0)


# `reg="crr"` in recon.denoise is this very model (float32 kernels); load both as float64 to look inside.
models = {name: load_shipped(name, dtype="float64") for name in ("crr", "wcrr")}
for name, reg in models.items():
    n = sum(k.size for k in reg.kernels)
    print(f"{name}: {reg.channels} channels, {n} filter weights, ||W|| = {reg.w_norm:.6f}, "
          f"weak convexity rho = {reg.weak_convexity:.4f}")

# %% [markdown]
# ## 1. What was learned: the profiles
# `reg.activation` is $\varphi$ (a `LinearSpline`), `reg.activation.integral` its integral $\psi$.
# The convex profile is quadratic for small responses and grows like $|t|$ for large ones, an
# $\ell^1$-like (Huber) penalty on filter outputs. A weakly convex profile may bend back: $\varphi$
# decreasing (slope down to $-1$) means large responses, edges, cost *less* than a convex penalty
# would charge. The authors' published WCRR does this for all $|t| \gtrsim 0.01$. recon's own WCRR,
# after an hour of CPU training, barely does: `reg.activation.slopes` is $-1$ on only four knot
# intervals next to 0, and its profile is almost the CRR's (which is why the two denoise alike below).
# The noise scaling $s_c(\sigma)$ rescales each channel, $\psi_c(t) = \psi(s_c t)/s_c^2$: a larger
# $\sigma$ gives a smaller $s_c$, so more of the responses fall in the quadratic part and are smoothed.

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
for name, reg in models.items():
    a = reg.activation
    t = np.linspace(a.x_min, a.x_max, 401)
    axes[0].plot(t, a(t), label=name)
    axes[1].plot(t, a.integral(t) - a.integral(np.zeros(1))[0], label=name)
axes[0].set(title=r"$\varphi = \psi'$", xlabel="filter response $t$")
axes[1].set(title=r"$\psi$", xlabel="filter response $t$")
sigmas = np.linspace(1, 30, 30) / 255
scales = np.array([models["wcrr"].noise_scaling(s) for s in sigmas])
axes[2].semilogy(255 * sigmas, scales[:, :8])
axes[2].set(title="WCRR noise scaling $s_c(\\sigma)$, 8 of 60 channels", xlabel="$255\\,\\sigma$")
axes[0].legend()
axes[1].legend()
fig.tight_layout()
fig.savefig(f"{out}/03_profiles.png", dpi=80)

# %% [markdown]
# ## 2. Convexity, checked rather than believed
# On random pairs $a, b$: $R(\tfrac{a+b}2) \le \tfrac12(R(a) + R(b))$ for the CRR; for the WCRR the same
# holds for $R + \tfrac12\|\cdot\|^2$ (not necessarily for $R$ alone: the test suite checks both
# statements; here we count how often each inequality is violated).

# %%
def midpoint_violations(f, n=32):
    bad = 0
    for _ in range(trials):  # a noisy patch of the image against uniform noise
        i, j = rng.integers(0, size - n, 2)
        a, b = clean[i : i + n, j : j + n] + 0.2 * rng.standard_normal((n, n)), 0.5 * rng.random((n, n))
        bad += f(0.5 * (a + b)) > 0.5 * (f(a) + f(b)) + 1e-9 * abs(f(a))
    return bad


crr25, wcrr25 = (models[n].at_noise_level(25 / 255) for n in ("crr", "wcrr"))
print("CRR, R:              ", midpoint_violations(crr25), f"violations in {trials} pairs")
print("WCRR slopes below 0 on", int(np.sum(models["wcrr"].activation.slopes < 0)), "of",
      models["wcrr"].activation.slopes.size, "intervals")
print("WCRR, R + |x|^2 / 2: ", midpoint_violations(lambda u: wcrr25(u) + 0.5 * float(np.sum(u * u))),
      f"violations in {trials} pairs")

# %% [markdown]
# ## 3. Denoising at three noise levels
# `recon.denoise(y, reg=R, sigma=s)` solves $\min_x \tfrac12\|x - y\|^2 + R_s(x)$ (weight 1: the strength
# was learned) by accelerated gradient with restart. `sigma` is in the units of the image: 25/255 for
# the usual "σ = 25" on a $[0, 1]$ image. TV gets the best of a small weight grid *on this very image*,
# an oracle choice that flatters it; the learned models get no tuning at all. On this 128×128 crop the
# three end up within about 0.2 dB of each other. The authors' published weights (loaded with
# `recon.learned.load_published`, or `reg="wcrr-published"`) denoise Set12 0.4–1.5 dB better than these
# (the model cards): a CPU hour of training is not their GPU budget.

# %%
rows = []
shown = {}
for s255 in ((15, 25) if quick else (5, 15, 25)):
    s = s255 / 255
    noisy = clean + s * rng.standard_normal(clean.shape)
    tv = max((recon.denoise(noisy, "tv", weight=w) for w in s * np.array([0.5, 0.8, 1.2, 1.8])), key=psnr)
    x_crr = recon.denoise(noisy, reg=models["crr"], sigma=s, tol=tol)
    x_wcrr = recon.denoise(noisy, reg=models["wcrr"], sigma=s, tol=tol)
    rows.append((s255, psnr(noisy), psnr(tv), psnr(x_crr), psnr(x_wcrr)))
    shown[s255] = (noisy, tv, x_crr, x_wcrr)
print(" sigma  noisy     TV    CRR   WCRR   (PSNR, dB)")
for r in rows:
    print("  {:3d}  {:5.2f}  {:5.2f}  {:5.2f}  {:5.2f}".format(*r))
fig, axes = plt.subplots(1, 4, figsize=(13, 3.6))
for ax, img, title in zip(axes, shown[25], ("noisy", "TV (oracle weight)", "CRR-NN", "WCRR-NN")):
    ax.imshow(img, cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"{title}, {psnr(img):.2f} dB")
    ax.set_axis_off()
fig.tight_layout()
fig.savefig(f"{out}/03_denoising.png", dpi=80)

# %% [markdown]
# ## 4. The noise level is a knob
# With data at $\sigma = 15/255$, denoise with an *assumed* $\sigma$ from 5 to 30: too small keeps noise,
# too large smooths texture away. The peak sits near (here a little above) the true value because the
# model was trained with the true $\sigma$ as its input; the printout gives where it is.

# %%
noisy15 = clean + 15 / 255 * rng.standard_normal(clean.shape)
assumed = np.arange(5, 31, 10 if quick else 2.5)
curves = {n: [psnr(recon.denoise(noisy15, reg=models[n], sigma=a / 255, tol=tol)) for a in assumed] for n in models}
fig, ax = plt.subplots(figsize=(5, 3.6))
for n, c in curves.items():
    ax.plot(assumed, c, "o-", label=n)
ax.axvline(15, color="gray", ls=":")
ax.set(xlabel="assumed $255\\,\\sigma$ (true: 15)", ylabel="PSNR (dB)", title="noise-level mismatch")
ax.legend()
fig.tight_layout()
fig.savefig(f"{out}/03_sigma_mismatch.png", dpi=80)
print("best assumed sigma:", {n: float(assumed[int(np.argmax(c))]) for n, c in curves.items()})

# %% [markdown]
# ## 5. Beyond denoising: deblurring
# For an ill-posed forward model, $\min_x \tfrac12\|k * x - y\|^2 + \lambda R_s(x)$ has two knobs,
# $\lambda$ and $s$. `recon.deblur(..., reg=R)` runs FISTA for the convex CRR and, for the weakly convex
# WCRR (where the objective may be non-convex), a monotone accelerated proximal gradient method that
# converges to critical points (Li & Lin 2015). The values below are recon's tuned CRR values for this
# blur on a Set12 image (`examples/eval_ridge_set12.py --versus-tv deblur`); the WCRR reuses them.

# %%
kernel = gaussian_kernel(1.5)
A = recon.operators.Blur(kernel, clean.shape)
blurred = A(clean) + 0.01 * rng.standard_normal(clean.shape)
tv = max((recon.deblur(blurred, kernel, "tv", weight=w, iters=deblur_iters) for w in (2e-4, 3.5e-4, 7e-4)), key=psnr)
x_crr = recon.deblur(blurred, kernel, reg=models["crr"], weight=0.16, sigma=1.25 / 255, iters=deblur_iters)
x_wcrr = recon.deblur(blurred, kernel, reg=models["wcrr"], weight=0.16, sigma=1.25 / 255, iters=deblur_iters)
fig, axes = plt.subplots(1, 4, figsize=(13, 3.6))
for ax, img, title in zip(axes, (blurred, tv, x_crr, x_wcrr), ("blurred", "TV (oracle weight)", "CRR-NN",
                                                                "WCRR-NN")):
    ax.imshow(img, cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"{title}, {psnr(img):.2f} dB")
    ax.set_axis_off()
fig.tight_layout()
fig.savefig(f"{out}/03_deblurring.png", dpi=80)
print(f"deblurring PSNR: blurred {psnr(blurred):.2f}, TV {psnr(tv):.2f}, CRR {psnr(x_crr):.2f}, "
      f"WCRR {psnr(x_wcrr):.2f}")

# %% [markdown]
# ## Exercises
# 1. Evaluate $R_s$ (`models["crr"].at_noise_level(s)(clean)`) for several $s$ and explain the trend
#    with the figures of section 1.
# 2. Tune `weight` and `sigma` of the WCRR deblurring on a grid: does it overtake the CRR?
# 3. Train your own (torch; the shipped ones took 55 minutes on one CPU core):
#    `python examples/train_wcrr.py ../shared/data/images/bsd400-train run/w.pt run/w.npz --minutes 10`,
#    then load it with `recon.learned.load_npz("run/w.npz")` and repeat section 3. Does its
#    activation have more negative slopes with `--lr-concave 5e-4`?
