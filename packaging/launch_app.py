"""The bundled desktop app's entry point (PyInstaller starts here): the same main as the
``fundtracker`` script pip installs."""

import sys

from ui.app import main

sys.exit(main())
