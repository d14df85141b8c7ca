"""Entry point for ``python -m triage`` (see :mod:`triage.cli`)."""

import sys

from triage.cli import main

sys.exit(main())
