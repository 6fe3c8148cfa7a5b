"""Icons and style sheets for the desktop app, loaded through ``ui.resources``."""
