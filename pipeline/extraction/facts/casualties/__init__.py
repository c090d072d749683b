"""What a sentence says of casualties. The spaCy components are in ``component.py``."""
