"""Users to invite: a person of the core system (`external_id`), their membership in a company
(main account or a subaccount with scopes) and, for someone new, the invitation flow's
activation e-mail (resolvers/subaccount.py `send_invitations`), sent once.

A person is found by external id, or else by e-mail: a hub user the core system did not know
yet (no external id) is linked, never invited again. Staff accounts are never touched. A
company has one main account: a second is refused (MAIN_EXISTS), decided under the lock of
the batch's client rows, so two imports at once cannot both make one. A changed membership
raises the user's access version in the same transaction (auth/revocation.py): a cached
session loses or gains the scopes at once.

A batch sends the same statements whatever its size: the companies, their lock, the people,
their memberships, then one INSERT or UPDATE per table with the rows as parameter sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.revocation import ACCESS_HANDLED, access_changed
from hub.settings import get_settings
from intake.kinds import Kind
from intake.run import Intake, RowError, _Outcome, _Parsed, audit_row, reference_selects
from models.base import utcnow
from models.i18n import DEFAULT_LANGUAGE, _
from models.identity import Invitation, Membership, User
from resolvers.booking import lock_clients
from resolvers.subaccount import NewPerson, send_invitations

_USERS: sa.Table = User.__table__  # type: ignore[attr-defined]
_MEMBERSHIPS: sa.Table = Membership.__table__  # type: ignore[attr-defined]
_INVITATIONS: sa.Table = Invitation.__table__  # type: ignore[attr-defined]
PERSON = ("external_id", "email", "first_name", "last_name", "phone")  # the users row's
ACCESS = ("is_main", "scopes")  # the membership's


class _Statements:
    """Built once per import, so each is compiled once."""

    def __init__(self, kind: Kind) -> None:
        self.table = _USERS
        self.references = reference_selects(kind)
        self.people = sa.select(
            _USERS.c.id, _USERS.c.staff_role, *(_USERS.c[name] for name in PERSON)
        ).where(
            sa.or_(
                _USERS.c.external_id.in_(sa.bindparam("ids", expanding=True)),
                sa.func.lower(_USERS.c.email).in_(sa.bindparam("emails", expanding=True)),
            )
        )
        self.memberships = sa.select(
            _MEMBERSHIPS.c.id,
            _MEMBERSHIPS.c.user_id,
            _MEMBERSHIPS.c.client_id,
            *(_MEMBERSHIPS.c[name] for name in ACCESS),
        ).where(
            sa.or_(
                _MEMBERSHIPS.c.user_id.in_(sa.bindparam("users", expanding=True)),
                sa.and_(
                    _MEMBERSHIPS.c.client_id.in_(sa.bindparam("clients", expanding=True)),
                    _MEMBERSHIPS.c.is_main.is_(True),
                ),
            )
        )
        self.insert_users = sa.insert(_USERS).returning(_USERS.c.id, _USERS.c.email)
        self.update_users = (
            sa.update(_USERS)
            .where(_USERS.c.id == sa.bindparam("p_id"))
            .values({name: sa.bindparam(f"p_{name}") for name in (*PERSON, "updated_at")})
        )
        self.insert_memberships = sa.insert(_MEMBERSHIPS).returning(
            _MEMBERSHIPS.c.id, _MEMBERSHIPS.c.user_id, _MEMBERSHIPS.c.client_id
        )
        # Access columns in bulk: the transaction raises the users' access version first.
        self.update_memberships = (
            sa.update(_MEMBERSHIPS)
            .where(_MEMBERSHIPS.c.id == sa.bindparam("p_id"))
            .values({name: sa.bindparam(f"p_{name}") for name in (*ACCESS, "updated_at")})
            .execution_options(**ACCESS_HANDLED)
        )
        self.insert_invitations = sa.insert(_INVITATIONS)


@dataclass(slots=True)
class _Row:
    """One valid row and what it changes."""

    parsed: _Parsed
    person: dict[str, Any] | None  # the hub user; for someone new, their id once inserted
    membership: dict[str, Any] | None  # theirs in the row's company, None when missing
    new: bool = field(init=False)

    def __post_init__(self) -> None:
        self.new = self.person is None

    @property
    def values(self) -> dict[str, Any]:
        return self.parsed.values

    def person_changed(self) -> bool:
        person = None if self.new else self.person
        return person is not None and any(
            person[name] != self._person_value(name) for name in PERSON
        )

    def access_changed(self) -> bool:
        return self.membership is not None and any(
            self.membership[name] != self.values[name] for name in ACCESS
        )

    def _person_value(self, name: str) -> Any:
        return self.parsed.external_id if name == "external_id" else self.values[name]

    def person_after(self) -> dict[str, Any]:
        return {name: self._person_value(name) for name in PERSON}

    def access_after(self) -> dict[str, Any]:
        return {name: self.values[name] for name in ACCESS}


@dataclass(slots=True)
class _Plan:
    rows: list[_Row] = field(default_factory=list)

    def new_people(self) -> list[_Row]:
        return [row for row in self.rows if row.new]

    def changed_people(self) -> list[_Row]:
        return [row for row in self.rows if row.person_changed()]

    def new_memberships(self) -> list[_Row]:
        return [row for row in self.rows if row.membership is None]

    def changed_memberships(self) -> list[_Row]:
        return [row for row in self.rows if row.access_changed()]


class UserIntake(Intake):
    """`leasehub import users`: the generic checks of intake/run.py, its own writes."""

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        self._emails: set[str] = set()  # across the file, as external ids are
        # The secret key and portal of the links: the process's own when not given.
        self.settings = self.settings or get_settings()

    def _statements(self, kind: Kind) -> Any:
        return _Statements(kind)

    async def _round(self, session: AsyncSession, rows: list[_Parsed], outcome: _Outcome) -> None:
        found = await self._references(session, rows)
        ready = [p for p in rows if self._complete(p, found) is not None and self._first(p)]
        if not ready:
            return
        clients = sorted({p.values["client_id"] for p in ready})
        if not self.dry_run:
            await lock_clients(session, clients)
        people = await self._people(session, ready)
        memberships = await self._memberships(session, people, clients)
        plan = self._plan(ready, people, memberships)
        if not self.dry_run:
            await self._write_users(session, plan)
        for row in plan.rows:
            if row.new:
                outcome.created.append((row.parsed, {}))
            elif row.person_changed() or row.membership is None or row.access_changed():
                outcome.updated.append((row.person["id"], row.parsed))  # type: ignore[index]
            else:
                outcome.unchanged += 1

    def _first(self, parsed: _Parsed) -> bool:
        """One row per e-mail address in a file: a second would be another person's."""
        email = parsed.values["email"]
        if email not in self._emails:
            self._emails.add(email)
            return True
        message = _("This e-mail address appears earlier in the file.")
        self._refuse_all([RowError(parsed.row, "email", "DUPLICATE_IN_FILE", message)])
        return False

    async def _people(self, session: AsyncSession, rows: list[_Parsed]) -> list[dict[str, Any]]:
        parameters = {
            "ids": [p.external_id for p in rows],
            "emails": [p.values["email"] for p in rows],
        }
        result = await session.execute(self._sql.people, parameters)
        return [dict(row) for row in result.mappings()]

    async def _memberships(
        self, session: AsyncSession, people: list[dict[str, Any]], clients: list[int]
    ) -> list[dict[str, Any]]:
        """The people's memberships and the companies' main accounts; locked when writing, in
        the order of auth/revocation.py (a membership before its user)."""
        statement = self._sql.memberships
        if not self.dry_run and session.get_bind().dialect.name == "postgresql":
            statement = statement.order_by(_MEMBERSHIPS.c.id).with_for_update()
        parameters = {"users": [person["id"] for person in people], "clients": clients}
        result = await session.execute(statement, parameters)
        return [dict(row) for row in result.mappings()]

    def _plan(
        self,
        rows: list[_Parsed],
        people: list[dict[str, Any]],
        memberships: list[dict[str, Any]],
    ) -> _Plan:
        by_id = {person["external_id"]: person for person in people if person["external_id"]}
        by_email = {person["email"].lower(): person for person in people}
        held = {(m["user_id"], m["client_id"]): m for m in memberships}
        mains = {m["client_id"]: m["user_id"] for m in memberships if m["is_main"]}
        plan = _Plan()
        for parsed in rows:
            person = by_id.get(parsed.external_id) or by_email.get(parsed.values["email"])
            if error := self._refusal(parsed, person, by_email, mains):
                self._refuse_all([error])
                continue
            client_id = parsed.values["client_id"]
            if parsed.values["is_main"]:
                mains[client_id] = None if person is None else person["id"]
            membership = None if person is None else held.get((person["id"], client_id))
            plan.rows.append(_Row(parsed, person, membership))
        return plan

    def _refusal(
        self,
        parsed: _Parsed,
        person: dict[str, Any] | None,
        by_email: dict[str, dict[str, Any]],
        mains: dict[int, int | None],
    ) -> RowError | None:
        row, values = parsed.row, parsed.values
        owner = by_email.get(values["email"])
        if any(who is not None and who["staff_role"] is not None for who in (owner, person)):
            message = _("This is a staff account of the lessor: the intake never changes it.")
            return RowError(row, "email", "STAFF_ACCOUNT", message)
        if (owner is not None and owner is not person) or (
            person is not None and person["external_id"] not in (None, parsed.external_id)
        ):
            message = _("This e-mail address belongs to another person in the hub.")
            return RowError(row, "email", "EMAIL_TAKEN", message)
        client_id = values["client_id"]
        if (
            values["is_main"]
            and client_id in mains
            and (person is None or mains[client_id] != person["id"])
        ):
            message = _("The company already has a main account; it can have only one.")
            return RowError(row, "is_main", "MAIN_EXISTS", message)
        return None

    async def _write_users(self, session: AsyncSession, plan: _Plan) -> None:
        now = utcnow()
        new_people, new_memberships = plan.new_people(), plan.new_memberships()
        changed_people, changed_memberships = plan.changed_people(), plan.changed_memberships()
        await self._insert_people(session, new_people, now)
        # Before the memberships change (auth/revocation.py): cached sessions see it at once.
        known = [row for row in changed_memberships + new_memberships if not row.new]
        await access_changed(session, [row.person["id"] for row in known])  # type: ignore[index]
        await self._update_people(session, changed_people, now)
        await self._insert_memberships(session, new_memberships, now)
        await self._update_memberships(session, changed_memberships, now)
        await self._invite(session, new_people, now)

    async def _insert_people(self, session: AsyncSession, rows: list[_Row], now: Any) -> None:
        if not rows:
            return
        values = [row.person_after() | {"created_at": now, "updated_at": now} for row in rows]
        inserted = await session.execute(self._sql.insert_users, values)
        ids = {email: pk for pk, email in inserted}
        for row in rows:
            row.person = {"id": ids[row.values["email"]]}
            self._audit_person(session, row.person["id"], row, None)

    async def _update_people(self, session: AsyncSession, rows: list[_Row], now: Any) -> None:
        if not rows:
            return
        changes = [
            {f"p_{name}": value for name, value in row.person_after().items()}
            | {"p_id": row.person["id"], "p_updated_at": now}  # type: ignore[index]
            for row in rows
        ]
        await session.execute(self._sql.update_users, changes)
        for row in rows:
            self._audit_person(session, row.person["id"], row, row.person)  # type: ignore[index]

    def _audit_person(
        self, session: AsyncSession, pk: int, row: _Row, before: dict[str, Any] | None
    ) -> None:
        audit_row(
            session,
            table=_USERS.name,
            pk=pk,
            client_id=row.values["client_id"],
            external_id=row.parsed.external_id,
            before=before,
            after=row.person_after(),
        )

    async def _insert_memberships(self, session: AsyncSession, rows: list[_Row], now: Any) -> None:
        if not rows:
            return
        values = [
            row.access_after()
            | {
                "user_id": row.person["id"],  # type: ignore[index]
                "client_id": row.values["client_id"],
                "is_active": True,  # the lessor's word: no consent to wait for
                "created_at": now,
                "updated_at": now,
            }
            for row in rows
        ]
        inserted = await session.execute(self._sql.insert_memberships, values)
        ids = {(user_id, client_id): pk for pk, user_id, client_id in inserted}
        for row in rows:
            key = (row.person["id"], row.values["client_id"])  # type: ignore[index]
            row.membership = {"id": ids[key]} | row.access_after()
            self._audit_membership(session, row, None)

    async def _update_memberships(self, session: AsyncSession, rows: list[_Row], now: Any) -> None:
        if not rows:
            return
        changes = [
            {f"p_{name}": value for name, value in row.access_after().items()}
            | {"p_id": row.membership["id"], "p_updated_at": now}  # type: ignore[index]
            for row in rows
        ]
        await session.execute(self._sql.update_memberships, changes)
        for row in rows:
            self._audit_membership(session, row, row.membership)

    def _audit_membership(
        self, session: AsyncSession, row: _Row, before: dict[str, Any] | None
    ) -> None:
        audit_row(
            session,
            table=_MEMBERSHIPS.name,
            pk=row.membership["id"],  # type: ignore[index]
            client_id=row.values["client_id"],
            external_id=row.parsed.external_id,
            before=before,
            after=row.access_after(),
        )

    async def _invite(self, session: AsyncSession, rows: list[_Row], now: Any) -> None:
        """The new people: the invitation the subaccount flow keeps, and the activation
        e-mail, once (a person found again on the next import is not new)."""
        if not rows:
            return
        invitations = [
            {
                "membership_id": row.membership["id"],  # type: ignore[index]
                "email": row.values["email"],
                "first_name": row.values["first_name"],
                "last_name": row.values["last_name"],
                "phone": row.values["phone"],
                "needs_consent": False,
                "created_at": now,
                "updated_at": now,
            }
            for row in rows
        ]
        await session.execute(self._sql.insert_invitations, invitations)
        settings = self.settings
        assert settings is not None  # __init__
        people = [
            NewPerson(
                row.person["id"],  # type: ignore[index]
                row.values["email"],
                row.values["first_name"],
                row.values["client_id"],
            )
            for row in rows
        ]
        await send_invitations(
            session, settings=settings, now=now, language=DEFAULT_LANGUAGE, people=people
        )
