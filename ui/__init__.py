"""Fundtracker's Qt interface: thin windows and models over the core services."""
