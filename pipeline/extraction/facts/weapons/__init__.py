"""Platforms and munitions. The spaCy components are in ``component.py``."""
