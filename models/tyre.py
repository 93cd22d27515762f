"""Fleet vehicles, tyre service centres, tyre deposits and relocations between centres."""

from __future__ import annotations

import enum
from datetime import date

from sqlmodel import Field

from models.base import Timestamped, client_fk, enum_type


class TyreSeason(enum.StrEnum):
    SUMMER = "SUMMER"
    WINTER = "WINTER"
    ALL_SEASON = "ALL_SEASON"


class RelocationStatus(enum.StrEnum):
    ORDERED = "ORDERED"
    CONFIRMED = "CONFIRMED"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


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

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    vehicle_id: int = Field(foreign_key="vehicles.id", index=True, ondelete="CASCADE")
    from_centre_id: int | None = Field(default=None, foreign_key="tyre_service_centres.id")
    to_centre_id: int = Field(foreign_key="tyre_service_centres.id", index=True)
    planned_date: date
    status: RelocationStatus = Field(sa_type=enum_type(RelocationStatus))
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
