"""Users and memberships: the three published demo logins (main account, subaccount, staff), and
the memberships that give a client's main account every scope and a subaccount the read scopes
of SUBACCOUNT_SCOPES."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from auth.passwords import hash_password
from auth.scopes import Scope
from hub.demo.rows import Rows, stamps
from hub.demo.spec import (
    DEMO_MAIN_EMAIL,
    DEMO_PASSWORD,
    DEMO_STAFF_EMAIL,
    DEMO_SUB_EMAIL,
    SUBACCOUNT_SCOPES,
)
from hub.demo.texts import Person
from models import Membership, User
from models.identity import StaffRole


@dataclass(frozen=True, slots=True)
class UserRef:
    """A generated user as requests, threads and payments name their author."""

    id: int
    person: Person
    email: str
    phone: str


def add_user(
    rows: Rows,
    person: Person,
    email: str,
    phone: str,
    since: date,
    *,
    password_hash: str | None = None,
    staff_role: StaffRole | None = None,
) -> UserRef:
    user_id = rows.add(
        User,
        {
            "email": email,
            "first_name": person.first,
            "last_name": person.last,
            "phone": phone,
            "password_hash": password_hash,
            "is_active": True,
            "staff_role": staff_role,
            "last_login_at": None,
            **stamps(since),
        },
    )
    return UserRef(user_id, person, email, phone)


_ALL_SCOPES = sorted(scope.value for scope in Scope)
_SUBACCOUNT_SCOPES = [scope.value for scope in SUBACCOUNT_SCOPES]


def add_membership(
    rows: Rows,
    user: UserRef,
    client_id: int,
    since: date,
    *,
    created_by: UserRef | None = None,
) -> None:
    is_main = created_by is None  # subaccounts are created by a main account
    rows.add(
        Membership,
        {
            "user_id": user.id,
            "client_id": client_id,
            "is_main": is_main,
            "scopes": list(_ALL_SCOPES if is_main else _SUBACCOUNT_SCOPES),
            "is_active": True,
            "created_by_id": created_by.id if created_by else None,
            **stamps(since),
        },
    )


@dataclass(frozen=True, slots=True)
class DemoUsers:
    main: UserRef
    sub: UserRef
    staff: UserRef


def demo_users(rows: Rows, today: date) -> DemoUsers:
    """The published logins, with the published password."""
    since = today - timedelta(days=3 * 365)

    def add(person: Person, email: str, phone: str, role: StaffRole | None = None) -> UserRef:
        # A hash per user, salted apart, as if each had set the password themselves.
        secret = hash_password(DEMO_PASSWORD)
        return add_user(rows, person, email, phone, since, password_hash=secret, staff_role=role)

    return DemoUsers(
        main=add(Person("Anna", "Kowalska"), DEMO_MAIN_EMAIL, "+48 601 234 567"),
        sub=add(Person("Jan", "Nowak"), DEMO_SUB_EMAIL, "+48 602 345 678"),
        staff=add(
            Person("Ewa", "Zielińska"), DEMO_STAFF_EMAIL, "+48 22 555 01 00", StaffRole.ADMIN
        ),
    )
