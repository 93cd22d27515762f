"""Fleet vehicles, tyre service centres, tyre deposits and relocations between centres."""

from __future__ import annotations

import enum
from datetime import date

import sqlalchemy as sa
from sqlmodel import Field

from models.base import Timestamped, client_fk, enum_type


class TyreSeason(enum.StrEnum):
    SUMMER = "SUMMER"
    WINTER = "WINTER"
    ALL_SEASON = "ALL_SEASON"


class RelocationStatus(enum.StrEnum):
    ORDERED = "ORDERED"
    CONFIRMED = "CONFIRMED"
    DISPATCHED = "DISPATCHED"  # on its way: the tyre desk sent it, the client can't change it
    DONE = "DONE"
    CANCELLED = "CANCELLED"


# Until the tyre desk dispatches it, a relocation is open: it can be edited or cancelled, and
# a car has at most one (a unique index).
OPEN_RELOCATION = (RelocationStatus.ORDERED, RelocationStatus.CONFIRMED)
# Open or on its way: the tyres count towards the target centre's load until they arrive.
INBOUND_RELOCATION = (*OPEN_RELOCATION, RelocationStatus.DISPATCHED)
_OPEN = sa.text("status IN ('ORDERED', 'CONFIRMED')")


class RelocationChange(enum.StrEnum):
    ORDERED = "ORDERED"
    UPDATED = "UPDATED"
    CANCELLED = "CANCELLED"
    DISPATCHED = "DISPATCHED"  # by the tyre desk
    COMPLETED = "COMPLETED"  # by the tyre desk: the set is stored at the target centre


class TyreServiceCentre(Timestamped, table=True):
    """A tyre service centre; not tenant-owned: every client's fleet uses the same network."""

    __tablename__ = "tyre_service_centres"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    street: str = Field(max_length=200)
    postal_code: str = Field(max_length=6)
    city: str = Field(max_length=100, index=True)
    latitude: float
    longitude: float
    phone: str = Field(max_length=20)
    capacity: int
    online_booking_url: str | None = Field(default=None, max_length=300)
    is_active: bool = Field(default=True, index=True)


class Vehicle(Timestamped, table=True):
    __tablename__ = "vehicles"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    contract_id: int | None = Field(
        default=None, foreign_key="contracts.id", index=True, ondelete="SET NULL"
    )
    registration_number: str = Field(max_length=10)
    vin: str = Field(max_length=17)
    make: str = Field(max_length=50)
    model: str = Field(max_length=50)
    driver_name: str | None = Field(default=None, max_length=200)


class TyreDeposit(Timestamped, table=True):
    """A set of tyres stored at a centre; released_on is set when they leave it."""

    __tablename__ = "tyre_deposits"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    vehicle_id: int = Field(foreign_key="vehicles.id", index=True, ondelete="CASCADE")
    centre_id: int = Field(foreign_key="tyre_service_centres.id", index=True)
    season: TyreSeason = Field(sa_type=enum_type(TyreSeason))
    tyre_size: str = Field(max_length=20)
    tyre_count: int = Field(default=4)
    stored_since: date
    released_on: date | None = Field(default=None)


class TyreRelocation(Timestamped, table=True):
    __tablename__ = "tyre_relocations"
    __table_args__ = (
        # One open relocation per car, kept by the database: an order for a car with one open
        # edits it, and of two orders at once for the same car one inserts.
        sa.Index(
            "uq_tyre_relocations_open",
            "vehicle_id",
            unique=True,
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    vehicle_id: int = Field(foreign_key="vehicles.id", index=True, ondelete="CASCADE")
    from_centre_id: int | None = Field(default=None, foreign_key="tyre_service_centres.id")
    to_centre_id: int = Field(foreign_key="tyre_service_centres.id", index=True)
    planned_date: date
    status: RelocationStatus = Field(sa_type=enum_type(RelocationStatus))
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    # The set that moves (its deposit's count when ordered): what the target centre's load gains.
    tyre_count: int = Field(default=4, sa_column_kwargs={"server_default": "4"})


class TyreRelocationEvent(Timestamped, table=True):
    """One change of a relocation: who, when, and the centre and date it then had."""

    __tablename__ = "tyre_relocation_events"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    relocation_id: int = Field(foreign_key="tyre_relocations.id", index=True, ondelete="CASCADE")
    change: RelocationChange = Field(sa_type=enum_type(RelocationChange))
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    to_centre_id: int = Field(foreign_key="tyre_service_centres.id")
    planned_date: date
