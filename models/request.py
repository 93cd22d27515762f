"""Requests (wnioski) to change a contract, with their stage history.

A request is filed once per idempotency key of its company (a unique key, so parallel retries
of one filing give one row), answered by customer service within a per-kind number of Warsaw
working days (`due_on`, fixed at filing), decided once (`decision`, the final `answer`) and then
closed. Each history entry is read by the other side once (`read_at`: unread counts).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from models.base import Timestamped, UTCDateTime, client_fk, enum_type
from models.calendar import add_working_days


class RequestType(enum.StrEnum):
    PAYMENT_DAY_CHANGE = "PAYMENT_DAY_CHANGE"
    CONTRACT_VALUE_CHANGE = "CONTRACT_VALUE_CHANGE"
    SCHEDULE_CHANGE = "SCHEDULE_CHANGE"
    COOPERATION_OPINION = "COOPERATION_OPINION"
    EARLY_TERMINATION_OFFER = "EARLY_TERMINATION_OFFER"
    POLICY_DUPLICATE = "POLICY_DUPLICATE"
    DRIVING_ABROAD_AUTHORISATION = "DRIVING_ABROAD_AUTHORISATION"
    SCHEDULE_CHANGE_OFFER = "SCHEDULE_CHANGE_OFFER"
    REGISTERED_OFFICE_CHANGE = "REGISTERED_OFFICE_CHANGE"
    CLIENT_DATA_CHANGE = "CLIENT_DATA_CHANGE"


class RequestStage(enum.StrEnum):
    """The guide's stages: submitted, in progress, waiting for the client's answer ("oczekujemy
    od Ciebie na odpowiedź"), decided (COMPLETED when accepted, REJECTED), closed."""

    SUBMITTED = "SUBMITTED"
    IN_REVIEW = "IN_REVIEW"
    WAITING_FOR_CLIENT = "WAITING_FOR_CLIENT"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    CLOSED = "CLOSED"


OPEN_STAGES = (RequestStage.SUBMITTED, RequestStage.IN_REVIEW, RequestStage.WAITING_FOR_CLIENT)


class RequestDecision(enum.StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


# Working days (Europe/Warsaw) customer service has to decide each kind, from the day of filing.
RESPONSE_WORKING_DAYS: dict[RequestType, int] = {
    RequestType.PAYMENT_DAY_CHANGE: 5,
    RequestType.CONTRACT_VALUE_CHANGE: 10,
    RequestType.SCHEDULE_CHANGE: 10,
    RequestType.COOPERATION_OPINION: 5,
    RequestType.EARLY_TERMINATION_OFFER: 5,
    RequestType.POLICY_DUPLICATE: 3,
    RequestType.DRIVING_ABROAD_AUTHORISATION: 3,
    RequestType.SCHEDULE_CHANGE_OFFER: 10,
    RequestType.REGISTERED_OFFICE_CHANGE: 5,
    RequestType.CLIENT_DATA_CHANGE: 3,
}


def response_due_on(kind: RequestType, filed_on: date) -> date:
    """The last day to decide a request of `kind` filed on `filed_on` (a Warsaw date)."""
    return add_working_days(filed_on, RESPONSE_WORKING_DAYS[kind])


class Request(Timestamped, table=True):
    __tablename__ = "requests"
    # One filing per key and company: a retried or parallel filing finds the first one.
    __table_args__ = (
        sa.UniqueConstraint("client_id", "idempotency_key", name="uq_requests_idempotency"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    contract_id: int | None = Field(
        default=None, foreign_key="contracts.id", index=True, ondelete="SET NULL"
    )
    number: str = Field(max_length=32, unique=True)
    type: RequestType = Field(sa_type=enum_type(RequestType))
    stage: RequestStage = Field(sa_type=enum_type(RequestStage), index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    contact_name: str = Field(max_length=200)
    contact_email: str = Field(max_length=254)
    contact_phone: str = Field(max_length=20)
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    idempotency_key: str | None = Field(default=None, max_length=64)
    due_on: date | None = Field(default=None, index=True)  # see response_due_on
    assignee_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    decision: RequestDecision | None = Field(default=None, sa_type=enum_type(RequestDecision))
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answer: str | None = Field(default=None, max_length=8000)  # the final answer
    # A schedule change stores the what-if schedule it was filed with (resolvers/simulation.py
    # `simulation_to_json`); accepting it applies exactly that schedule.
    simulation: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)


class RequestStageEntry(Timestamped, table=True):
    """One step of a request's history: a stage change or a message with it."""

    __tablename__ = "request_stages"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    request_id: int = Field(foreign_key="requests.id", index=True, ondelete="CASCADE")
    stage: RequestStage = Field(sa_type=enum_type(RequestStage))
    comment: str = Field(default="", max_length=8000)  # a final answer fits whole
    from_client: bool = Field(default=False)
    author_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    # When the other side (staff for a client's entry, the client for staff's) read it.
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
