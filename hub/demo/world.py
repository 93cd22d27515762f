"""What every client shares: the counters that run across clients, unique NIPs and e-mail
domains, the three demo logins, and the network of tyre service centres that fleets store
their tyres at (generated once, from its own random stream, before the first client)."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from auth.clock import warsaw_day_start
from hub.demo.identity import demo_users
from hub.demo.rows import Counters, Rows, SeriesNumbers, stamps
from hub.demo.spec import LESSOR_NIP, DemoSpec
from hub.demo.texts import (
    CENTRE_BRANDS,
    CITIES,
    CITY_WEIGHTS,
    City,
    landline,
    postal_code,
    slugify,
    street,
)
from models import TyreServiceCentre
from models.identifiers import make_nip

CENTRES_TOTAL = 40
INACTIVE_CENTRES = 2
ONLINE_BOOKING_RATE = 0.3
LOCAL_CENTRE_RATE = 0.8  # a fleet stores its tyres in its own city when a centre is there
# Tyres in active deposits per client and per fleet, measured on this generator (2,000 clients,
# two seeds): centre capacities are sized from them so loads land where the target load says.
TYRES_PER_CLIENT = 5.9
TYRES_PER_FLEET = 66.0
CENTRE_TARGET_LOAD = (0.3, 0.7)
MIN_CENTRE_CAPACITY = 40
MAX_CENTRE_DRAWS = 1000  # the last one takes a centre full or not


class DemoWorld:
    """What every client shares: counters, unique names, demo users and the centre network."""

    def __init__(self, spec: DemoSpec, numbers: SeriesNumbers | None = None) -> None:
        self.spec = spec
        self.counters = Counters()
        self.numbers = numbers or SeriesNumbers()
        self._nips = {LESSOR_NIP}
        self._domains: set[str] = set()
        # Demo users and centres go into the first batch: a failed first batch leaves nothing.
        # The demo is "as of" the start of its day in Warsaw: never later than the moment it runs.
        self.stamped_until = warsaw_day_start(spec.today)
        self._first_rows: Rows | None = self._rows()
        self.demo = demo_users(self._first_rows, spec.today)
        self.centres = centre_network(self._first_rows, spec)

    def take_rows(self) -> Rows:
        """The rows of the next batch: the first batch's already hold the users and centres."""
        rows, self._first_rows = self._first_rows or self._rows(), None
        return rows

    def _rows(self) -> Rows:
        return Rows(self.counters, self.stamped_until)

    def claim_nip(self, rng: random.Random) -> str:
        nip = make_nip(rng)
        while nip in self._nips:
            nip = make_nip(rng)
        self._nips.add(nip)
        return nip

    def claim_domain(self, base: str) -> str:
        """A unique company domain, so generated e-mail addresses never collide."""
        slug, suffix = slugify(base), 1
        domain = f"{slug}.pl"
        while domain in self._domains:
            suffix += 1
            domain = f"{slug}{suffix}.pl"
        self._domains.add(domain)
        return domain


# --- Tyre service centres -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CentrePlan:
    city: City
    brand: str
    size: float  # relative share of the lessor's tyres the centre takes
    active: bool


class CentreNetwork:
    """Active centres to store tyres at: mostly in the fleet's own city, weighted by size, and
    never beyond a centre's capacity while another one has room (a fleet of fifty cars would
    otherwise overfill a small town's centre)."""

    def __init__(
        self, plans: Sequence[_CentrePlan], ids: Sequence[int], capacities: Sequence[int]
    ) -> None:
        self._room = dict(zip(ids, capacities, strict=True))
        active = [(i, p) for i, p in zip(ids, plans, strict=True) if p.active]
        self._everywhere = ([i for i, _ in active], [p.size for _, p in active])
        local: defaultdict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for centre_id, plan in active:
            local[plan.city.name][0].append(centre_id)
            local[plan.city.name][1].append(plan.size)
        self._local = dict(local)

    def pick(self, rng: random.Random, city: City, avoid: int | None = None, tyres: int = 0) -> int:
        """A centre other than `avoid` with room for `tyres` more, which it then holds for
        them (the last of many draws takes a full one)."""
        for draws_left in range(MAX_CENTRE_DRAWS - 1, -1, -1):
            local = self._local.get(city.name)
            ids, sizes = local if local and rng.random() < LOCAL_CENTRE_RATE else self._everywhere
            centre_id = rng.choices(ids, sizes)[0]
            if centre_id != avoid and (self._room[centre_id] >= tyres or not draws_left):
                self._room[centre_id] -= tyres
                return centre_id
        raise RuntimeError("no active tyre service centre other than the one to avoid")


def centre_network(rows: Rows, spec: DemoSpec) -> CentreNetwork:
    """The centres, each sized so that the tyres the clients are expected to store there fill
    it to a load drawn from CENTRE_TARGET_LOAD."""
    rng = random.Random(f"{spec.seed}:centres")
    plans = _centre_plans(rng)
    fleets = len(spec.fleets)
    expected_tyres = max(spec.clients - fleets, 1) * TYRES_PER_CLIENT + fleets * TYRES_PER_FLEET
    shares = _expected_tyre_shares(plans)
    ids, capacities = [], []
    for plan, share in zip(plans, shares, strict=True):
        target = rng.uniform(*CENTRE_TARGET_LOAD)
        # A closed centre keeps the capacity of an average one.
        tyres = expected_tyres * (share if plan.active else 1 / len(plans))
        capacity = max(MIN_CENTRE_CAPACITY, math.ceil(tyres / target / 20) * 20)
        ids.append(_centre_row(rows, rng, plan, capacity, spec.today))
        capacities.append(capacity)
    return CentreNetwork(plans, ids, capacities)


def _centre_plans(rng: random.Random) -> list[_CentrePlan]:
    """About CENTRES_TOTAL centres spread over the cities like the clients are."""
    total = sum(CITY_WEIGHTS)
    placed = []  # (city, brand, whether the city has other centres)
    for city in CITIES:
        count = max(1, round(CENTRES_TOTAL * city.weight / total))
        placed += [(city, brand, count > 1) for brand in rng.sample(CENTRE_BRANDS, count)]
    # Closed centres only where the city keeps another one.
    crowded = [i for i, (_, _, shared) in enumerate(placed) if shared]
    closed = set(rng.sample(crowded, INACTIVE_CENTRES))
    return [
        _CentrePlan(city, brand, rng.uniform(0.6, 1.6), i not in closed)
        for i, (city, brand, _) in enumerate(placed)
    ]


def _centre_row(
    rows: Rows, rng: random.Random, plan: _CentrePlan, capacity: int, today: date
) -> int:
    name = f"{plan.brand} {plan.city.name}"
    booking = rng.random() < ONLINE_BOOKING_RATE
    return rows.add(
        TyreServiceCentre,
        {
            "name": name,
            "street": street(rng),
            "postal_code": postal_code(rng, plan.city),
            "city": plan.city.name,
            "latitude": round(plan.city.latitude + rng.uniform(-0.04, 0.04), 6),
            "longitude": round(plan.city.longitude + rng.uniform(-0.06, 0.06), 6),
            "phone": landline(rng, plan.city),
            "capacity": capacity,
            "online_booking_url": f"https://rezerwacje.{slugify(name)}.pl/" if booking else None,
            "is_active": plan.active,
            **stamps(today - timedelta(days=4 * 365)),
        },
    )


def _expected_tyre_shares(plans: Sequence[_CentrePlan]) -> list[float]:
    """Each centre's expected share of all stored tyres under `CentreNetwork.pick`: a fleet
    stores locally at LOCAL_CENTRE_RATE when its city has an active centre, otherwise anywhere,
    both weighted by centre size; clients live in cities by `City.weight`."""
    total_weight = sum(CITY_WEIGHTS)
    size_everywhere = sum(p.size for p in plans if p.active)
    size_in_city: defaultdict[str, float] = defaultdict(float)
    for plan in plans:
        size_in_city[plan.city.name] += plan.size if plan.active else 0.0
    served = sum(c.weight for c in CITIES if size_in_city[c.name]) / total_weight
    picked_anywhere = 1 - LOCAL_CENTRE_RATE * served
    shares = []
    for plan in plans:
        if not plan.active:
            shares.append(0.0)
            continue
        local = LOCAL_CENTRE_RATE * plan.city.weight / total_weight / size_in_city[plan.city.name]
        shares.append(plan.size * (local + picked_anywhere / size_everywhere))
    return shares
