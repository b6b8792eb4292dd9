"""Distances on the Earth's surface, for the packet kinds and offers that depend on where the claimer stands."""

from __future__ import annotations

import math

from hongbao.domain.errors import Rejected

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def check_coordinates(lat: object, lng: object, detail: str) -> tuple[float, float]:
    """Latitude and longitude in degrees, refused (with `detail`) outside [-90, 90] × [-180, 180] or not finite."""
    ok = all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in (lat, lng))
    if not ok or not (-90 <= float(lat) <= 90 and -180 <= float(lng) <= 180):  # type: ignore[arg-type]
        raise Rejected(detail, code="invalid_location")
    return float(lat), float(lng)  # type: ignore[arg-type]
