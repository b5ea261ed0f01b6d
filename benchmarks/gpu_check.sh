#!/usr/bin/env bash
# GPU readiness check: install recon with the gpu and test extras, run the CuPy tests and every benchmark on
# CuPy, write their JSON lines, print a summary.  Sized for under 8 minutes on one H100.
#
#   bash benchmarks/gpu_check.sh            from the repository root (any folder works)
#   bash benchmarks/gpu_check.sh --quick    every benchmark at its --quick size (a smoke run)
#
# Output, in $OUT (or benchmarks/results/gpu/ when OUT is unset):
#   benchmarks.jsonl   every benchmark's JSON lines, each with "benchmark": its script's name
#   gpu_check.log      everything the steps printed (pip, nvidia-smi, pytest, benchmarks)
#   summary.txt        one line per step: status, seconds, and the benchmarks' headline figures
#
# Environment:
#   OUT                           results folder (created)
#   RECON_GPU_CHECK_BACKEND       numpy runs the same steps on the CPU (to try the script without a GPU)
#   RECON_GPU_CHECK_INSTALL=0     use the python3 at hand and this checkout (no venv, no pip)
#   RECON_GPU_CHECK_BUDGET        seconds for the whole script (default 460); each benchmark gets at most
#                                 its own limit and what is left; one that no longer fits is skipped
#   RECON_SHARED_DATA             the shared data (fusion cases, published weights); fusion is skipped without it
#
# Installing: a virtual environment that sees the system's packages (a GPU image's CuPy and torch stay
# usable), then pip install ".[gpu,test]" (".[test]" when CuPy is already importable: two CuPy wheels
# must not meet).  Where pip cannot reach an index (an offline GPU machine), recon alone is installed
# (--no-deps) on top of what the system has.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
backend="${RECON_GPU_CHECK_BACKEND:-cupy}"
budget="${RECON_GPU_CHECK_BUDGET:-460}"
out="${OUT:-$root/benchmarks/results/gpu}"
mkdir -p "$out" || exit 1
log="$out/gpu_check.log"
jsonl="$out/benchmarks.jsonl"
summary="$out/summary.txt"
: >"$log"
: >"$jsonl"
: >"$summary"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/recon-gpu-check.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg

say() { printf '%s\n' "$*" | tee -a "$log"; }
record() { printf '%-22s %-8s %5d s  %s\n' "$1" "$2" "$3" "${4:-}" | tee -a "$summary" >>"$log"; }
left() { echo $((budget - SECONDS)); }

say "=== gpu_check: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), backend $backend, budget ${budget} s, results in $out"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi 2>&1 | tee -a "$log"
else
    say "nvidia-smi: not found"
fi

# --- 1. install -------------------------------------------------------------------------------------
t=$SECONDS
if [[ "${RECON_GPU_CHECK_INSTALL:-1}" == "0" ]]; then
    export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
    say "install: skipped (RECON_GPU_CHECK_INSTALL=0), $(command -v python3) with this checkout on PYTHONPATH"
    py=python3
    install_status=skipped
else
    python3 -m venv --system-site-packages "$scratch/venv" >>"$log" 2>&1 || { say "venv: failed"; exit 1; }
    py="$scratch/venv/bin/python"
    # where python3 is itself a virtual environment (a GPU image's /opt/torch/.venv), --system-site-packages
    # reaches only the base interpreter's packages: a .pth file adds that environment's site-packages too
    parent_sites="$(python3 -c 'import site, sys; print("\n".join(site.getsitepackages()) if sys.prefix != sys.base_prefix else "")')"
    if [[ -n "$parent_sites" ]]; then
        purelib="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
        printf '%s\n' "$parent_sites" >"$purelib/recon_gpu_check_parent.pth"
    fi
    # the gpu and test extras, less what the system already has: a second CuPy wheel would clash with the
    # image's, and a GPU image's CUDA torch serves the tests as well as the pinned CPU wheel (a 2.5 GB download)
    mapfile -t reqs < <(RECON_BACKEND="$backend" "$py" - <<'EOF'
import importlib.util
import os

try:
    import tomllib
except ImportError:  # Python 3.10: no TOML reader in the standard library, take the extras whole
    print(".[gpu,test]" if os.environ["RECON_BACKEND"] == "cupy" else ".[test]")
    raise SystemExit
with open("pyproject.toml", "rb") as fh:
    extras = tomllib.load(fh)["project"]["optional-dependencies"]
wanted = list(extras["test"])
if os.environ["RECON_BACKEND"] == "cupy" and importlib.util.find_spec("cupy") is None:
    wanted += extras["gpu"]
if importlib.util.find_spec("torch") is not None:
    wanted = [r for r in wanted if not r.replace(" ", "").startswith(("torch=", "torch>", "torch<", "torch~"))]
print(".")
print("\n".join(wanted))
EOF
)
    say "install: pip install ${reqs[*]}"
    if "$py" -m pip install --quiet --retries 1 --timeout 20 "${reqs[@]}" >>"$log" 2>&1; then
        install_status=ok
    else
        say "install: pip could not install them (offline?); installing recon alone on the system's packages"
        "$py" -m pip install --quiet --no-deps --no-build-isolation --no-index . >>"$log" 2>&1 \
            || { say "install: recon itself failed to install"; record install failed $((SECONDS - t)); exit 1; }
        install_status=no-deps
    fi
fi
"$py" - <<'EOF' 2>&1 | tee -a "$log"
import importlib
for name in ("recon", "numpy", "scipy", "skimage", "numba", "cupy", "torch", "pytest", "xdist"):
    try:
        module = importlib.import_module(name)
        print(f"  {name:8s} {getattr(module, '__version__', '?')}")
    except Exception as err:  # report, the steps below say what it costs
        print(f"  {name:8s} missing ({type(err).__name__}: {err})")
EOF
record install "$install_status" $((SECONDS - t))

# --- 2. the CuPy tests --------------------------------------------------------------------------------
t=$SECONDS
workers=()
"$py" -c "import xdist" >/dev/null 2>&1 && workers=(-n 4)
limit=$(( $(left) < 200 ? $(left) : 200 ))
say "=== tests: python -m pytest -q ${workers[*]} -k $backend (limit ${limit} s)"
# the tests parametrised over the xp fixture carry the backend's name in their ids; on numpy (a try-out
# without a GPU) one package of them is enough
if [[ "$backend" == "cupy" ]]; then selection=(-k cupy tests); else selection=(-k numpy tests/operators); fi
timeout --kill-after=10 "$limit" "$py" -m pytest -q -p no:cacheprovider "${workers[@]}" "${selection[@]}" \
    >"$scratch/pytest.log" 2>&1
rc=$?
cat "$scratch/pytest.log" >>"$log"
tail -n 3 "$scratch/pytest.log"
case $rc in
    0) status=ok ;;
    124|137) status=timeout ;;
    *) status="exit-$rc" ;;
esac
record tests "$status" $((SECONDS - t)) "$(grep -E '(passed|failed|error)' "$scratch/pytest.log" | tail -n 1)"

# --- 3. the benchmarks ----------------------------------------------------------------------------------
# name | limit (s) | arguments at GPU size (--quick replaces them); peers run on the host's CPU cores
shared="${RECON_SHARED_DATA:-$root/../shared/data}"
benchmarks=(
    "bench_tv_denoise|110|--repeat 2 --output $scratch/tv_denoise.json"
    "bench_pdhg_iteration|90|--size 512 --iters 200"
    "bench_fbp|60|--sizes 512:720,1024:1440 --repeat 3"
    "bench_radon|90|--sizes 256:180,512:720 --repeat 3"
    "bench_bregman|70|--repeat 2"
    "bench_ridge|90|--iters 30 --repeat 3"
    "bench_ptycho|90|--iters 50 --out $scratch/ptycho"
    "bench_fusion|70|--iters 50"
    "bench_fusion_bands|70|--bands 8 --iters 5 --workers 4"
)
for entry in "${benchmarks[@]}"; do
    IFS='|' read -r name own args <<<"$entry"
    t=$SECONDS
    if [[ $quick == 1 ]]; then
        args="--quick"
        [[ $name == bench_tv_denoise ]] && args="--quick --output $scratch/tv_denoise.json"
        [[ $name == bench_ptycho ]] && args="--quick --out $scratch/ptycho"
    fi
    if [[ $name == bench_fusion* && ! -d "$shared/fusion" ]]; then
        say "=== $name: skipped, no shared data at $shared/fusion (set RECON_SHARED_DATA)"
        record "$name" skipped 0 "no shared data"
        continue
    fi
    remaining=$(( $(left) - 10 ))
    if (( remaining < 20 )); then
        say "=== $name: skipped, the budget is spent"
        record "$name" skipped 0 "budget"
        continue
    fi
    limit=$(( own < remaining ? own : remaining ))
    say "=== $name --backend $backend $args (limit ${limit} s)"
    # shellcheck disable=SC2086  # $args is a list of words
    timeout --kill-after=10 "$limit" "$py" "benchmarks/$name.py" --backend "$backend" $args \
        >"$scratch/$name.out" 2>"$scratch/$name.err"
    rc=$?
    cat "$scratch/$name.out" "$scratch/$name.err" >>"$log"
    tail -n 2 "$scratch/$name.err" | sed 's/^/  /'
    case $rc in
        0) status=ok ;;
        124|137) status=timeout ;;
        *) status="exit-$rc" ;;
    esac
    headline="$("$py" - "$name" "$scratch/$name.out" "$jsonl" <<'EOF'
import json
import sys

name, source, target = sys.argv[1:]
keys = ("recon_s", "peer_s", "speedup", "ratio", "tv_prox_iteration_ratio", "seconds_per_iteration",
        "seconds_per_sweep", "plain_s", "bregman_s", "dask_threads_seconds", "final_error")
figures = []
with open(source) as src, open(target, "a") as dst:
    for line in src:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if not isinstance(row, dict):
            continue
        dst.write(json.dumps({"benchmark": name, **row}) + "\n")
        shown = [f"{k}={row[k]:.4g}" for k in keys if isinstance(row.get(k), (int, float))]
        if shown:
            label = row.get("case") or row.get("method") or ""
            figures.append(f"{str(label)[:40]} {row.get('dtype', '')}: " + " ".join(shown[:3]))
print(f"{len(figures)} line(s)" + ("; " + " | ".join(figures[:3]) if figures else ""))
EOF
)"
    record "$name" "$status" $((SECONDS - t)) "$headline"
done

say ""
say "=== gpu_check: summary ($((SECONDS)) s in all)"
cat "$summary" | tee -a "$log"
failed=$(grep -cE '^[^ ]+ +(exit-|timeout|failed)' "$summary")
say "gpu_check: $failed step(s) failed or timed out; JSON lines in $jsonl"
[[ $failed == 0 ]]
