"""Requests (wnioski) to change a contract, with their stage history."""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from models.base import Timestamped, client_fk, enum_type


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
    SUBMITTED = "SUBMITTED"
    IN_REVIEW = "IN_REVIEW"
    WAITING_FOR_CLIENT = "WAITING_FOR_CLIENT"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"


class Request(Timestamped, table=True):
    __tablename__ = "requests"

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


class RequestStageEntry(Timestamped, table=True):
    """One step of a request's history: a stage change or a message with it."""

    __tablename__ = "request_stages"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = client_fk()
    request_id: int = Field(foreign_key="requests.id", index=True, ondelete="CASCADE")
    stage: RequestStage = Field(sa_type=enum_type(RequestStage))
    comment: str = Field(default="", max_length=4000)
    from_client: bool = Field(default=False)
    author_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
