"""Who struck whom: named actors and their roles. The spaCy components are in ``component.py``."""
