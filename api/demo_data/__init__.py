"""Public data shipped with the package for the demo scenario (README.md beside this file)."""
