"""The fleet and its tyres: a vehicle row per leased vehicle, the seasonal tyre sets stored at a
service centre (the latest still stored, the earlier ones released at the next change), and the
odd relocation of a set to another centre; and the opening hours of the centres that take
online bookings, whose slots the hub holds (TYR-4)."""

from __future__ import annotations

from datetime import date, time, timedelta

from hub.demo.draft import ClientDraft, ContractDraft, LeasedVehicle
from hub.demo.rows import stamps
from hub.demo.texts import person
from models import TyreCentreHours, TyreDeposit, TyreRelocation, TyreServiceCentre, Vehicle
from models.calendar import RELOCATION_WORKING_DAYS, add_working_days
from models.tyre import RelocationStatus, TyreSeason

DEPOSIT_RATE = 0.8  # of vehicles on running contracts; the rest run on all-season tyres
TYRES_PER_SET = 4
RELOCATION_RATE = 0.05
# Centres with online booking: Monday to Friday 8-17, Saturday 8-13, an hour a slot, two cars
# at once (weekday 0 is Monday; Sunday closed, like public holidays).
BOOKING_HOURS = {**dict.fromkeys(range(5), (time(8), time(17))), 5: (time(8), time(13))}
SLOT_MINUTES = 60
CARS_PER_SLOT = 2


def add_fleet(draft: ClientDraft) -> None:
    """A fleet vehicle for every leased vehicle, with the tyre sets stored for it."""
    _booking_hours(draft)
    swaps = _tyre_swaps(draft.today)
    for contract in draft.contracts:
        for vehicle in contract.vehicles:
            _vehicle(draft, contract, vehicle, swaps)


def _booking_hours(draft: ClientDraft) -> None:
    """The hours of the centres with online booking, added by the first client of the batch
    that holds the centres (the first): no draw from any random stream, so no other row moves."""
    rows = draft.rows.by_table
    hours_table = TyreCentreHours.__table__.name  # type: ignore[attr-defined]
    if hours_table in rows:
        return
    centres = TyreServiceCentre.__table__.name  # type: ignore[attr-defined]
    for centre in rows.get(centres, ()):
        if centre["online_booking_url"] is None:
            continue
        for weekday, (opens, closes) in BOOKING_HOURS.items():
            draft.rows.add(
                TyreCentreHours,
                {
                    "centre_id": centre["id"],
                    "weekday": weekday,
                    "opens": opens,
                    "closes": closes,
                    "slot_minutes": SLOT_MINUTES,
                    "cars_per_slot": CARS_PER_SLOT,
                    "created_at": centre["created_at"],
                    "updated_at": centre["updated_at"],
                },
            )


def _vehicle(
    draft: ClientDraft,
    contract: ContractDraft,
    leased: LeasedVehicle,
    swaps: list[tuple[date, TyreSeason]],
) -> None:
    """The fleet vehicle; on a running contract mostly with its other set of tyres stored."""
    rng, terms = draft.rng, contract.terms
    vehicle_id = draft.rows.add(
        Vehicle,
        {
            "client_id": draft.client_id,
            "contract_id": contract.id,
            "registration_number": leased.registration,
            "vin": leased.vin,
            "make": leased.model.make,
            "model": leased.model.model,
            "driver_name": person(rng).full,
            **stamps(terms.start),
        },
    )
    if not contract.active or (rng.random() >= DEPOSIT_RATE and not terms.showcase):
        return
    centre_id = draft.world.centres.pick(rng, draft.city, tyres=TYRES_PER_SET)
    _deposits(draft, vehicle_id, leased, centre_id, terms.start, swaps)
    # Client #1 shows a relocation on its first vehicle with stored tyres.
    if rng.random() < RELOCATION_RATE or (draft.index == 1 and not draft.relocations):
        _relocation(draft, vehicle_id, centre_id)


def _deposits(
    draft: ClientDraft,
    vehicle_id: int,
    leased: LeasedVehicle,
    centre_id: int,
    since: date,
    swaps: list[tuple[date, TyreSeason]],
) -> None:
    """One set per seasonal change since the car came: each visit stores the set coming off
    and releases the one going on, so only the latest set is still stored."""
    released = None
    for swap, season in swaps:
        visit = min(swap + timedelta(days=draft.rng.randint(0, 25)), draft.today)
        if visit < since:
            break
        draft.rows.add(
            TyreDeposit,
            {
                "client_id": draft.client_id,
                "vehicle_id": vehicle_id,
                "centre_id": centre_id,
                "season": season,
                "tyre_size": leased.model.tyre_size,
                "tyre_count": TYRES_PER_SET,
                "stored_since": visit,
                "released_on": released,
                **stamps(visit, released),
            },
        )
        released = visit


def _relocation(draft: ClientDraft, vehicle_id: int, from_centre: int) -> None:
    rng = draft.rng
    status = rng.choice(
        (
            RelocationStatus.ORDERED,
            RelocationStatus.ORDERED,
            RelocationStatus.CONFIRMED,
            RelocationStatus.CANCELLED,
        )
    )
    # Ordered some days ago (a cancelled one weeks ago), planned at least RELOCATION_WORKING_DAYS
    # working days after the order (TYR-4), by the one calendar: a cancelled one for a day gone
    # by, a live one for a day to come.
    if status is RelocationStatus.CANCELLED:
        ordered = draft.today - timedelta(days=rng.randint(25, 80))
        lead = rng.randint(RELOCATION_WORKING_DAYS, RELOCATION_WORKING_DAYS + 6)
    else:
        ordered = draft.today - timedelta(days=rng.randint(1, 7))
        lead = rng.randint(RELOCATION_WORKING_DAYS + 2, RELOCATION_WORKING_DAYS + 18)
    planned = add_working_days(ordered, lead)
    draft.relocations += 1
    draft.rows.add(
        TyreRelocation,
        {
            "client_id": draft.client_id,
            "vehicle_id": vehicle_id,
            "from_centre_id": from_centre,
            "to_centre_id": draft.world.centres.pick(rng, draft.city, avoid=from_centre),
            "planned_date": planned,
            "status": status,
            "created_by_id": draft.main.id,
            **stamps(ordered),
        },
    )


def _tyre_swaps(today: date) -> list[tuple[date, TyreSeason]]:
    """The last three seasonal changes, latest first, with the set that went into storage."""
    swaps = []
    for year in range(today.year, today.year - 3, -1):
        swaps += [(date(year, 10, 20), TyreSeason.SUMMER), (date(year, 4, 1), TyreSeason.WINTER)]
    return [swap for swap in swaps if swap[0] <= today][:3]
