"""``python -m recon`` runs the ``recon`` command (see :mod:`recon.cli`)."""
import sys

from .cli import main

sys.exit(main())
