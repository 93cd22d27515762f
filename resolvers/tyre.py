"""The tyre service centre list (TYR-2), a root list shared by every client, and the filters of
a client's fleet list (TYR-1).

Nearest first is worked out in Python: the active centres are a bounded set (tens, a few
hundred at most), all of them are read once, measured by great-circle distance and sorted, so
no database needs trigonometry (SQLite has none unless built with its math functions). A
postcode is placed at the mean position of the centres that share the longest start with it:
the Polish postcode's first digit is its region and the first two its area, so that lands in
the right town or area without a postcode table the project would have to ship and keep.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, false, or_, select
from sqlmodel import col

from auth.access import require_authenticated
from auth.errors import BadInputError, NotFoundError
from loaders.paging import Ordering, Page, PageQuery, make_page
from loaders.rows import light_rows, row_columns, row_type
from loaders.tyre import CentreByIdLoader, VehicleFilter
from models.i18n import _
from models.search import contains, equals
from models.tyre import TyreServiceCentre
from resolvers.context import Context
from resolvers.ids import pk_of
from resolvers.invoice import contract_of_client
from resolvers.paging import page_query, root_list

CENTRE_ORDERING = Ordering(("city", "name"), descending=False)
# Nearest first; the cursor names this list, so a cursor of the other ordering is refused.
NEAR_ORDERING = Ordering(("distance_km",), descending=False)
EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)
_POSTCODE = re.compile(r"^(\d{2})-?(\d{3})$")
_POSTCODE_START = re.compile(r"^\d{1,2}(-?\d{0,3})?$")


@dataclass(frozen=True, slots=True)
class CentreFilter:
    city: str | None = None
    online_booking: bool | None = None
    search: str | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.city and self.city.strip():
            query = query.where(equals(col(TyreServiceCentre.city), self.city.strip()))
        if self.online_booking is not None:
            has_url = col(TyreServiceCentre.online_booking_url).is_not(None)
            query = query.where(has_url if self.online_booking else ~has_url)
        if self.search and self.search.strip():
            query = query.where(_matches(self.search.strip()))
        return query


def _matches(term: str) -> Any:
    """The city or the name contains the term; a postcode's start also matches the postcode."""
    found = [
        contains(col(TyreServiceCentre.city), term),
        contains(col(TyreServiceCentre.name), term),
    ]
    if _POSTCODE_START.match(term):
        found.append(col(TyreServiceCentre.postal_code).startswith(_postcode_prefix(term)))
    return or_(false(), *found)


def _postcode_prefix(term: str) -> str:
    """ "90123" and "90-123" -> "90-123", "901" -> "90-1", "9" -> "9": as the codes are stored."""
    digits = term.replace("-", "")
    return digits if len(digits) <= 2 else f"{digits[:2]}-{digits[2:]}"


@dataclass(frozen=True, slots=True)
class Point:
    latitude: float
    longitude: float


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance (haversine) in kilometres."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat, dlon = lat2 - lat1, math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


# A centre's light row that also carries its distance: still a row of the centre table for the
# Node type and for cursors, which read `distance_km` like a column.
_NearRow: Any = type("TyreServiceCentreNearRow", (row_type(TyreServiceCentre),), {})


def _with_distance(row: Any, origin: Point) -> Any:
    near = _NearRow._make(row)
    # Rounded to the metre: the cursor carries the same value the sort compared.
    near.distance_km = round(distance_km(origin, Point(row.latitude, row.longitude)), 3)
    return near


async def list_centres(
    ctx: Context,
    *,
    filters: CentreFilter,
    near: Any | None,
    first: int | None,
    after: str | None,
) -> Page[TyreServiceCentre]:
    require_authenticated(ctx.viewer)
    query = filters.apply(
        select(TyreServiceCentre).where(col(TyreServiceCentre.is_active).is_(True))
    )
    if near is None:
        return await root_list(
            ctx, query, model=TyreServiceCentre, ordering=CENTRE_ORDERING, first=first, after=after
        )
    origin = await _origin(ctx, near)
    return await _nearest_first(ctx, query, origin=origin, first=first, after=after)


async def _nearest_first(
    ctx: Context, query: Select[Any], *, origin: Point, first: int | None, after: str | None
) -> Page[TyreServiceCentre]:
    page = _near_page_query(ctx, first=first, after=after)
    async with ctx.db.read() as session:
        result = await session.execute(query.with_only_columns(*row_columns(TyreServiceCentre)))
        rows = [_with_distance(row, origin) for row in light_rows(TyreServiceCentre, result)]
    rows.sort(key=lambda row: (row.distance_km, row.id))
    total = len(rows)
    if page.after is not None:
        rows = [row for row in rows if (row.distance_km, row.id) > page.after]

    async def count() -> int:
        return total

    return make_page(rows[: page.first + 1], page, NEAR_ORDERING, count)


def _near_page_query(ctx: Context, *, first: int | None, after: str | None) -> PageQuery:
    """`first` checked as every list checks it; the cursor is this list's (distance, id)."""
    checked = page_query(
        model=TyreServiceCentre,
        ordering=CENTRE_ORDERING,
        first=first,
        after=None,
        max_first=ctx.settings.page_size_max,
    )
    return PageQuery(first=checked.first, after=None if after is None else _near_cursor(after))


def _near_cursor(cursor: str) -> tuple[float, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, distance, pk = json.loads(raw)
        expected = f"{TyreServiceCentre.__tablename__}:{NEAR_ORDERING.columns[0]}"
        valid = name == expected and isinstance(distance, int | float) and type(pk) is int
    except (ValueError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise BadInputError(_("after is not a valid cursor for this list."), field="after")
    return float(distance), pk


async def _origin(ctx: Context, near: Any) -> Point:
    """The point to measure from: the coordinates given, or where the postcode lies."""
    either = _("Give either latitude and longitude, or a postal code.")
    if near.postal_code is not None:
        if near.latitude is not None or near.longitude is not None:
            raise BadInputError(either, field="near")
        return await _postcode_point(ctx, near.postal_code)
    if near.latitude is None or near.longitude is None:
        raise BadInputError(either, field="near")
    if not (-90 <= near.latitude <= 90 and -180 <= near.longitude <= 180):
        message = _("Latitude must be within ±90 and longitude within ±180.")
        raise BadInputError(message, field="near")
    return Point(near.latitude, near.longitude)


async def _postcode_point(ctx: Context, postal_code: str) -> Point:
    found = _POSTCODE.match(postal_code.strip())
    if found is None:
        message = _("A postal code is five digits: 00-000.")
        raise BadInputError(message, field="near.postalCode")
    digits = found.group(1) + found.group(2)
    async with ctx.db.read() as session:
        known = (await session.execute(_centre_positions())).all()
    point = postcode_centroid(digits, [(code, Point(lat, lon)) for code, lat, lon in known])
    if point is None:
        message = _("No centre is known in the region of this postal code.")
        raise BadInputError(message, field="near.postalCode")
    return point


def _centre_positions() -> Select[str, float, float]:
    """Every centre's postcode and position, closed ones too: they still tell where a code is."""
    centre = TyreServiceCentre
    return select(col(centre.postal_code), col(centre.latitude), col(centre.longitude))


def postcode_centroid(digits: str, known: Sequence[tuple[str, Point]]) -> Point | None:
    """The mean position of the known postcodes sharing the longest start with `digits`
    (at least the region's digit); None when no known code is in that region."""
    by_digits = [(code.replace("-", ""), point) for code, point in known]
    for length in range(len(digits), 0, -1):
        near = [point for code, point in by_digits if code[:length] == digits[:length]]
        if near:
            latitude = sum(point.latitude for point in near) / len(near)
            longitude = sum(point.longitude for point in near) / len(near)
            return Point(latitude, longitude)
    return None


# --- The fleet list's filters ---------------------------------------------------------------


async def vehicle_filter(ctx: Context, *, client_id: int, given: Any | None) -> VehicleFilter:
    """The filter input of a client's vehicles: its contract must be that client's, its centre
    an existing one (centres are shared, so any existing centre may be asked about)."""
    if given is None:
        return VehicleFilter()
    return VehicleFilter(
        registration=_term(given.registration),
        vin=_term(given.vin),
        contract_id=await contract_of_client(
            ctx, client_id=client_id, global_id=given.contract_id, field="filter.contractId"
        ),
        centre_id=await _centre_id(ctx, given.centre_id),
        season=given.season,
    )


def _term(text: str | None) -> str | None:
    """Plates and VINs are written with and without spaces: they are compared without."""
    squeezed = "".join((text or "").split())
    return squeezed or None


async def _centre_id(ctx: Context, global_id: str | None) -> int | None:
    if global_id is None:
        return None
    field = "filter.centreId"
    centre = await ctx.loaders[CentreByIdLoader].load(
        pk_of(global_id, "TyreServiceCentre", field=field)
    )
    if centre is None:
        raise NotFoundError(field=field)
    return int(centre.id)
