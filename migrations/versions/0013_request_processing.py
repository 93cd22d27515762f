"""request processing: idempotent filing, deadlines, assignees, decisions, read markers, topics

Requests and message threads get an idempotency key unique per company, an assignee on the
lessor's side and (requests) the working-day deadline fixed at filing, the decision with its
final answer, and the what-if schedule a schedule change was filed with. History entries and
messages record when the other side read them (a history entry holds up to 8,000 characters, a
whole final answer); threads get a topic code. Rows stored before:
their deadline is counted from the day they were filed, everything in them counts as read, and
a thread's topic follows its Polish category.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base
from models.calendar import add_working_days

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WARSAW = ZoneInfo("Europe/Warsaw")
# Frozen here: a later change of the live table must not rewrite history.
RESPONSE_WORKING_DAYS = {
    "PAYMENT_DAY_CHANGE": 5,
    "CONTRACT_VALUE_CHANGE": 10,
    "SCHEDULE_CHANGE": 10,
    "COOPERATION_OPINION": 5,
    "EARLY_TERMINATION_OFFER": 5,
    "POLICY_DUPLICATE": 3,
    "DRIVING_ABROAD_AUTHORISATION": 3,
    "SCHEDULE_CHANGE_OFFER": 10,
    "REGISTERED_OFFICE_CHANGE": 5,
    "CLIENT_DATA_CHANGE": 3,
}
TOPICS = {
    "Faktury": "INVOICES",
    "Płatności": "PAYMENTS",
    "Umowa": "CONTRACT",
    "Ubezpieczenie": "INSURANCE",
    "Opony": "TYRES",
}


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32, create_constraint=False)


def _stamp() -> sa.Column:
    return sa.Column("read_at", models.base.UTCDateTime(timezone=True), nullable=True)


def _key() -> sa.Column:
    return sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)


def _assignee(batch: object, table: str) -> None:
    batch.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))  # type: ignore[attr-defined]
    batch.create_foreign_key(  # type: ignore[attr-defined]
        f"fk_{table}_assignee", "users", ["assignee_id"], ["id"], ondelete="SET NULL"
    )


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(_key())
        batch.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        _assignee(batch, "requests")
        batch.add_column(
            sa.Column("decision", _enum("requestdecision", "ACCEPTED", "REJECTED"), nullable=True)
        )
        batch.add_column(
            sa.Column("decided_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=True)
        )
        batch.add_column(sa.Column("simulation", sa.JSON(), nullable=True))
        batch.create_unique_constraint("uq_requests_idempotency", ["client_id", "idempotency_key"])
        batch.create_index("ix_requests_due_on", ["due_on"])
    with op.batch_alter_table("request_stages") as batch:
        batch.add_column(_stamp())
        batch.alter_column(  # the decision's history entry carries the whole final answer
            "comment",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=4000),
            type_=sqlmodel.sql.sqltypes.AutoString(length=8000),
            existing_nullable=False,
        )
    with op.batch_alter_table("message_threads") as batch:
        batch.add_column(
            sa.Column(
                "topic",
                _enum(
                    "messagetopic",
                    "INVOICES",
                    "PAYMENTS",
                    "CONTRACT",
                    "INSURANCE",
                    "TYRES",
                    "OTHER",
                ),
                nullable=False,
                server_default="OTHER",
            )
        )
        batch.add_column(_key())
        _assignee(batch, "message_threads")
        batch.create_unique_constraint(
            "uq_message_threads_idempotency", ["client_id", "idempotency_key"]
        )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(_stamp())
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    requests = sa.table(
        "requests",
        sa.column("id", sa.Integer()),
        sa.column("type", sa.String()),
        sa.column("created_at", models.base.UTCDateTime()),
        sa.column("due_on", sa.Date()),
    )
    rows = bind.execute(sa.select(requests.c.id, requests.c.type, requests.c.created_at))
    for request_id, kind, created_at in rows.all():
        filed_on = _aware(created_at).astimezone(WARSAW).date()
        due_on = add_working_days(filed_on, RESPONSE_WORKING_DAYS[kind])
        bind.execute(requests.update().where(requests.c.id == request_id).values(due_on=due_on))
    for table in ("request_stages", "messages"):
        stamped = sa.table(table, sa.column("read_at"), sa.column("created_at"))
        bind.execute(stamped.update().values(read_at=stamped.c.created_at))
    threads = sa.table("message_threads", sa.column("category"), sa.column("topic"))
    for category, topic in TOPICS.items():
        bind.execute(threads.update().where(threads.c.category == category).values(topic=topic))


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("read_at")
    with op.batch_alter_table("message_threads") as batch:
        batch.drop_constraint("uq_message_threads_idempotency", type_="unique")
        batch.drop_constraint("fk_message_threads_assignee", type_="foreignkey")
        for column in ("assignee_id", "idempotency_key", "topic"):
            batch.drop_column(column)
    with op.batch_alter_table("request_stages") as batch:
        batch.drop_column("read_at")
        batch.alter_column(
            "comment",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=8000),
            type_=sqlmodel.sql.sqltypes.AutoString(length=4000),
            existing_nullable=False,
        )
    with op.batch_alter_table("requests") as batch:
        batch.drop_index("ix_requests_due_on")
        batch.drop_constraint("uq_requests_idempotency", type_="unique")
        batch.drop_constraint("fk_requests_assignee", type_="foreignkey")
        for column in (
            "simulation",
            "answer",
            "decided_at",
            "decision",
            "assignee_id",
            "due_on",
            "idempotency_key",
        ):
            batch.drop_column(column)
