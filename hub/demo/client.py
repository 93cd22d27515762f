"""The client company (master data, e-invoice address), the lessor's virtual bank accounts for
its repayments, its main account, and the order in which every domain adds to one client."""

from __future__ import annotations

from datetime import date, timedelta

from hub.demo.contract import add_contract, contract_plan
from hub.demo.document import add_documents
from hub.demo.draft import ClientDraft
from hub.demo.identity import add_membership, add_user
from hub.demo.invoice import settle
from hub.demo.message import add_threads
from hub.demo.request import add_requests
from hub.demo.rows import Batch, Rows, stamps
from hub.demo.texts import (
    BANKS,
    LESSOR_BANKS,
    Person,
    company_name,
    landline,
    mobile,
    person,
    pick_city,
    postal_code,
    slugify,
    street,
)
from hub.demo.tyre import add_fleet
from hub.demo.world import DemoWorld
from models import BankAccount, Client
from models.identifiers import make_iban, make_regon


def client_batch(world: DemoWorld, first: int, last: int) -> Batch:
    """The rows of clients `first`..`last` per table; batches must be asked for in order."""
    rows = world.take_rows()
    for index in range(first, last + 1):
        build_client(world, rows, index)
    return dict(rows.by_table)


def build_client(world: DemoWorld, rows: Rows, index: int) -> None:
    """Everything of client number `index`. The order is part of the output: each step draws
    from the client's one random stream, and later steps read what earlier ones made (payments
    settle the invoices of contracts, documents total both, a fleet needs leased vehicles)."""
    draft = ClientDraft(world, rows, index)
    # Terms first: the company's and its users' dates follow from the earliest contract.
    terms = contract_plan(draft)
    since = min(t.start for t in terms) - timedelta(days=draft.rng.randint(3, 60))
    owner = _company(draft, since)
    _bank_accounts(draft, since)
    _users(draft, owner, min(t.start for t in terms))
    for each in terms:
        add_contract(draft, each)
    settle(draft)
    add_documents(draft)
    add_requests(draft)
    add_threads(draft)
    add_fleet(draft)


def _company(draft: ClientDraft, since: date) -> Person:
    """The `Client` row; its owner is who the company name and main account are drawn for."""
    rng = draft.rng
    draft.city = pick_city(rng)
    owner = person(rng)
    draft.name, domain_base = company_name(rng, owner)
    draft.domain = draft.world.claim_domain(domain_base)
    draft.einvoice_email = f"{rng.choice(('faktury', 'ksiegowosc', 'efaktury'))}@{draft.domain}"
    draft.client_id = draft.rows.add(
        Client,
        {
            "number": str(100000 + draft.index),
            "name": draft.name,
            "nip": draft.world.claim_nip(rng),
            "regon": make_regon(rng),
            "street": street(rng),
            "postal_code": postal_code(rng, draft.city),
            "city": draft.city.name,
            "country": "PL",
            "email": f"biuro@{draft.domain}",
            "phone": landline(rng, draft.city),
            "einvoice_email": draft.einvoice_email,
            **stamps(since),
        },
    )
    draft.payer_iban = make_iban(rng, rng.choice(BANKS)[1])
    return owner


def _bank_accounts(draft: ClientDraft, since: date) -> None:
    """The lessor's virtual accounts for this client's repayments; a few also take EUR."""
    rng = draft.rng
    for position in range(2 if rng.random() < 0.3 else 1):
        bank, code = rng.choice(LESSOR_BANKS)
        draft.rows.add(
            BankAccount,
            {
                "client_id": draft.client_id,
                "iban": make_iban(rng, code),
                "bank_name": bank,
                "currency": "EUR" if position and rng.random() < 0.5 else "PLN",
                "is_default": position == 0,
                **stamps(since),
            },
        )


def _users(draft: ClientDraft, owner: Person, since: date) -> None:
    """Access comes with the first invoice (AUTH-8); demo clients belong to Anna Kowalska."""
    demo = draft.world.demo
    if draft.rich:
        add_membership(draft.rows, demo.main, draft.client_id, since)
        draft.authors = (demo.main,)
    else:
        email = f"{slugify(owner.first)}.{slugify(owner.last)}@{draft.domain}"
        main = add_user(draft.rows, owner, email, mobile(draft.rng), since)
        add_membership(draft.rows, main, draft.client_id, since)
        draft.authors = (main,)
    if draft.index == 1:
        add_membership(draft.rows, demo.sub, draft.client_id, since, created_by=demo.main)
        draft.authors = (demo.main, demo.sub)
