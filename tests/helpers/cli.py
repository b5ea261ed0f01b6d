"""Running the ``recon`` command as a user does (a subprocess) and listing what it left behind."""
import os
import subprocess
import sys
from pathlib import Path

import recon


def run_recon(*args, cwd, timeout=120):
    """``python -m recon *args`` in ``cwd``; the completed process (text stdout and stderr).

    The subprocess imports the ``recon`` under test (this checkout, not another installed copy):
    the folder holding it goes first on ``PYTHONPATH``.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(recon.__file__).resolve().parents[1]),
                                                      env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "recon", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False, env=env)


def listing(path):
    """The sorted names in ``path``: compared before and after a failed command, which must write nothing."""
    return sorted(os.listdir(path))
