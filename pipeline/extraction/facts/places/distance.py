"""The one great-circle distance of the project: ``distance_km(lat1, lon1, lat2, lon2)``."""

from __future__ import annotations

import math

# Mean Earth radius (km, IUGG): haversine on a sphere is within 0.5 % of the ellipsoid,
# far below the 50 km the evaluator and incident clustering compare distances against.
EARTH_RADIUS_KM = 6371.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in km between two WGS84 points in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return EARTH_RADIUS_KM * 2 * math.asin(min(1.0, math.sqrt(a)))
