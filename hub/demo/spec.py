"""What the demo generates (`DemoSpec`) and what it publishes: the demo logins and their password,
the subaccount's scopes and the lessor's NIP that invoices and KSeF numbers carry."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from auth.clock import warsaw_today
from auth.scopes import Scope
from hub.settings import Settings
from models.base import utcnow

DEMO_PASSWORD = "LeaseHub!2026"  # noqa: S105 - the published password of the demo accounts
DEMO_MAIN_EMAIL = "anna.kowalska@demo.leasehub.pl"
DEMO_SUB_EMAIL = "jan.nowak@demo.leasehub.pl"
DEMO_STAFF_EMAIL = "staff@demo.leasehub.pl"
SUBACCOUNT_SCOPES: tuple[Scope, ...] = (
    Scope.CONTRACTS_READ,
    Scope.SCHEDULES_READ,
    Scope.INVOICES_READ,
    Scope.DOCUMENTS_READ,
)
LESSOR_NIP: str = Settings.model_fields["lessor_nip"].default
RICH_CLIENTS = 2  # clients #1 and #2 (the demo logins') show every case the portal can display


@dataclass(frozen=True)
class DemoSpec:
    """What to generate: the same spec always gives the same rows."""

    clients: int = 100
    seed: int = 2026
    today: date = field(default_factory=lambda: warsaw_today(utcnow()))  # the lessor's day
    contracts_per_client: tuple[int, int] = (1, 4)  # inclusive range, drawn per client
    batch_clients: int = 100  # clients generated and inserted per transaction
    # One client in every `fleet_every` (0: none) is a fleet: a company leasing its cars and
    # vans, contract by contract, with `fleet_contracts` of them (inclusive, fewer more often).
    fleet_every: int = 20
    fleet_contracts: tuple[int, int] = (20, 60)

    def __post_init__(self) -> None:
        ranges = (self.contracts_per_client, self.fleet_contracts)
        if (
            self.clients < 0
            or self.batch_clients < 1
            or self.fleet_every < 0
            or not all(1 <= low <= high for low, high in ranges)
        ):
            raise ValueError(f"unusable demo spec: {self}")

    @cached_property
    def fleets(self) -> frozenset[int]:
        """The fleet clients by index (client number 100000 + index, also its generated id):
        one drawn from each run of `fleet_every` clients, never a demo login's client. Drawn
        from the seed alone, so a spec with more clients keeps the fleets of one with fewer."""
        if not self.fleet_every:
            return frozenset()
        fleets = set()
        for block in range(0, self.clients, self.fleet_every):
            first, last = max(block + 1, RICH_CLIENTS + 1), block + self.fleet_every
            if first <= last:
                fleet = random.Random(f"{self.seed}:fleet:{block}").randint(first, last)
                if fleet <= self.clients:
                    fleets.add(fleet)
        return frozenset(fleets)


class DemoDataExists(RuntimeError):
    """The clients table already has rows: demo data goes into an empty database only."""
