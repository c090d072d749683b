"""``python -m pipeline.extraction.geo``: build the GeoNames cache now; print load time and RSS."""

from .gazetteer import _main

raise SystemExit(_main())
