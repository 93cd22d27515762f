"""Users and memberships: the published demo logins (main account, subaccount, the staff admin
and one staff member per other role, DEMO_ROLE_STAFF), and the memberships that give a client's
main account every scope and a subaccount the read scopes of SUBACCOUNT_SCOPES."""

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


# One published login per staff role besides the admin's, to try what each role may do.
DEMO_ROLE_STAFF: tuple[tuple[StaffRole, str, Person, str], ...] = (
    (
        StaffRole.CUSTOMER_SERVICE,
        "obsluga@demo.leasehub.pl",
        Person("Marek", "Wójcik"),
        "+48 22 555 01 01",
    ),
    (StaffRole.TYRE_DESK, "opony@demo.leasehub.pl", Person("Piotr", "Lis"), "+48 22 555 01 02"),
    (StaffRole.FINANCE, "finanse@demo.leasehub.pl", Person("Joanna", "Mazur"), "+48 22 555 01 03"),
    (StaffRole.AUDITOR, "audyt@demo.leasehub.pl", Person("Tomasz", "Krawczyk"), "+48 22 555 01 04"),
)


@dataclass(frozen=True, slots=True)
class DemoUsers:
    main: UserRef
    sub: UserRef
    staff: UserRef
    colleagues: tuple[UserRef, ...]  # DEMO_ROLE_STAFF, in its order


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
        colleagues=tuple(
            add(person, email, phone, role) for role, email, person, phone in DEMO_ROLE_STAFF
        ),
    )
