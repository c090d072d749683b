"""``python -m pipeline.extraction.geo``: build the GeoNames cache now; print load time and RSS
(the same as ``python -m pipeline.extraction.facts.places``)."""

from pipeline.extraction.facts.places.gazetteer import _main

raise SystemExit(_main())
