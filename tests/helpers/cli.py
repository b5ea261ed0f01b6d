"""Running the ``recon`` command as a user does (a subprocess) and listing what it left behind."""
import os
import subprocess
import sys


def run_recon(*args, cwd, timeout=120):
    """``python -m recon *args`` in ``cwd``; the completed process (text stdout and stderr)."""
    return subprocess.run([sys.executable, "-m", "recon", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


def listing(path):
    """The sorted names in ``path``: compared before and after a failed command, which must write nothing."""
    return sorted(os.listdir(path))
