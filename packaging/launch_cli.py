"""The bundled command line's entry point (PyInstaller starts here): the same main as the
``fundtracker-cli`` script pip installs."""

import sys

from fundtracker.cli import main

sys.exit(main())
