"""What the demo generates (`DemoSpec`) and what it publishes: the demo logins and their password,
the subaccount's scopes and the lessor's NIP that invoices and KSeF numbers carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

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


@dataclass(frozen=True)
class DemoSpec:
    """What to generate: the same spec always gives the same rows."""

    clients: int = 100
    seed: int = 2026
    today: date = field(default_factory=lambda: warsaw_today(utcnow()))  # the lessor's day
    contracts_per_client: tuple[int, int] = (1, 4)  # inclusive range, drawn per client
    batch_clients: int = 100  # clients generated and inserted per transaction

    def __post_init__(self) -> None:
        low, high = self.contracts_per_client
        if self.clients < 0 or self.batch_clients < 1 or not 1 <= low <= high:
            raise ValueError(f"unusable demo spec: {self}")


class DemoDataExists(RuntimeError):
    """The clients table already has rows: demo data goes into an empty database only."""
