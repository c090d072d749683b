"""One folder per fact: its spaCy component, its vocabulary (``vocab/``) and its assembly."""
