"""``python -m pipeline.extraction.facts.places``: build the GeoNames cache now; print load time and RSS."""

from pipeline.extraction.facts.places.gazetteer import _main

raise SystemExit(_main())
