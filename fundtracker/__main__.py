"""``python -m fundtracker`` is ``fundtracker-cli``."""

import sys

from fundtracker.cli import main

sys.exit(main())
