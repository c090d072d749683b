"""The words that report a strike, and their modality. The spaCy components are in ``component.py``."""
