"""Requests (wnioski): each type with the fields its portal form files, a stage history from
submission to where the request stands now (answered by staff, a client's reply carrying the
documents asked for), and the showcase requests of the demo clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hub.demo.attachment import attach, pdf
from hub.demo.draft import ClientDraft, ContractDraft
from hub.demo.identity import UserRef
from hub.demo.rows import Row, at, pick
from hub.demo.texts import BANKS, landline, person, pick_city, postal_code, street
from models import Request, RequestStageEntry
from models.finance import round_money
from models.request import RequestDecision, RequestStage, RequestType, response_due_on

_CLIENT_LEVEL_REQUESTS = (
    RequestType.COOPERATION_OPINION,
    RequestType.REGISTERED_OFFICE_CHANGE,
    RequestType.CLIENT_DATA_CHANGE,
)
_REQUEST_STAGE_WEIGHTS = (
    (RequestStage.SUBMITTED, 10),
    (RequestStage.IN_REVIEW, 20),
    (RequestStage.WAITING_FOR_CLIENT, 15),
    (RequestStage.COMPLETED, 40),
    (RequestStage.REJECTED, 15),
)
# A decided request's decision follows its last history entry, whose comment is the answer.
_DECISIONS = {
    RequestStage.COMPLETED: RequestDecision.ACCEPTED,
    RequestStage.REJECTED: RequestDecision.REJECTED,
}
_SHOWCASE_REQUESTS = (
    (RequestType.PAYMENT_DAY_CHANGE, RequestStage.WAITING_FOR_CLIENT),
    (RequestType.DRIVING_ABROAD_AUTHORISATION, RequestStage.COMPLETED),
    (RequestType.POLICY_DUPLICATE, RequestStage.IN_REVIEW),
)


@dataclass(frozen=True, slots=True)
class _StepKind:
    stage: RequestStage
    from_client: bool
    comments: tuple[str, ...]


_SUBMIT = _StepKind(
    RequestStage.SUBMITTED,
    True,
    (
        "Wniosek złożony przez portal.",
        "Proszę o pilne rozpatrzenie wniosku.",
    ),
)

_REVIEW = _StepKind(
    RequestStage.IN_REVIEW,
    False,
    (
        "Wniosek przekazany do analizy.",
        "Wniosek weryfikuje opiekun umowy.",
    ),
)
_ASK = _StepKind(
    RequestStage.WAITING_FOR_CLIENT,
    False,
    (
        "Prosimy o przesłanie aktualnego odpisu z KRS.",
        "Prosimy o uzupełnienie uzasadnienia wniosku.",
        "Prosimy o podpisanie oświadczenia i przesłanie skanu.",
    ),
)
_REPLY = _StepKind(
    RequestStage.IN_REVIEW,
    True,
    (
        "W załączeniu przesyłamy wymagane dokumenty.",
        "Uzupełniamy wniosek zgodnie z prośbą.",
    ),
)
_DONE = _StepKind(
    RequestStage.COMPLETED,
    False,
    (
        "Wniosek został zrealizowany. Dokumenty wysłaliśmy na adres e-mail podany we wniosku.",
        "Wniosek zrealizowany – aneks do umowy jest dostępny w zakładce Dokumenty.",
    ),
)
_REJECT = _StepKind(
    RequestStage.REJECTED,
    False,
    (
        "Wniosek odrzucony: umowa ma zaległe płatności.",
        "Wniosek odrzucony: zmiana nie jest możliwa w ostatnich sześciu miesiącach umowy.",
    ),
)
# The steps after SUBMITTED that lead to each final stage; a reply from the client carries a file.
_STAGE_PATHS: dict[RequestStage, tuple[tuple[_StepKind, ...], ...]] = {
    RequestStage.SUBMITTED: ((),),
    RequestStage.IN_REVIEW: ((_REVIEW,),),
    RequestStage.WAITING_FOR_CLIENT: ((_REVIEW, _ASK),),
    RequestStage.COMPLETED: ((_REVIEW, _DONE), (_REVIEW, _ASK, _REPLY, _DONE)),
    RequestStage.REJECTED: ((_REVIEW, _REJECT), (_REVIEW, _ASK, _REPLY, _REJECT)),
}
_PAYMENT_DAY_REASONS = (
    "Dostosowanie do terminu wpływów od kontrahentów",
    "Ujednolicenie terminów płatności wszystkich umów",
    "Inne: zmiana terminu wypłat wynagrodzeń w firmie",
)
# What changes (the form's `change`) with the client's words; attachments carry the rest.
_VALUE_CHANGES = (
    ("ADDITIONAL_EQUIPMENT", "Doposażenie pojazdu w zabudowę chłodniczą"),
    ("ADDITIONAL_EQUIPMENT", "Dodatkowy osprzęt: łyżka skarpowa i młot hydrauliczny"),
    ("NEW_PURCHASE_PRICE", "Zmiana ceny zakupu po negocjacjach z dostawcą"),
)
_OPINION_PURPOSES = ("Wniosek o kredyt obrotowy", "Przetarg publiczny", "Nowy kontrahent")
_TERMINATION_REASONS = ("Sprzedaż przedmiotu leasingu", "Wcześniejszy wykup", "Likwidacja szkody")
_SCHEDULE_OFFER_REASONS = ("Sezonowość przychodów", "Obniżenie wysokości raty")
_COUNTRIES = ("Niemcy", "Czechy", "Słowacja", "Austria", "Litwa", "Francja", "Holandia", "Włochy")


@dataclass(frozen=True, slots=True)
class _Step:
    kind: _StepKind
    day: date
    comment: str


def add_requests(draft: ClientDraft) -> None:
    """Up to three requests of any type and stage; a demo client shows the same three on its
    first contract."""
    if draft.rich:
        for request_type, stage in _SHOWCASE_REQUESTS:
            _request(draft, request_type, draft.contracts[0], stage)
        return
    for _ in range(draft.rng.randint(0, 3)):
        request_type, contract = _request_subject(draft)
        _request(draft, request_type, contract, pick(draft.rng, _REQUEST_STAGE_WEIGHTS))


def _request_subject(draft: ClientDraft) -> tuple[RequestType, ContractDraft | None]:
    """A request type and a running contract it fits (none for company-level types)."""
    while True:
        request_type = draft.rng.choice(tuple(RequestType))
        if request_type in _CLIENT_LEVEL_REQUESTS:
            return request_type, None
        fitting = [
            c
            for c in draft.contracts
            if c.active
            and (request_type is not RequestType.POLICY_DUPLICATE or c.policies)
            and (request_type is not RequestType.DRIVING_ABROAD_AUTHORISATION or c.vehicles)
        ]
        if fitting:
            return request_type, draft.rng.choice(fitting)


def _request(
    draft: ClientDraft,
    request_type: RequestType,
    contract: ContractDraft | None,
    stage: RequestStage,
) -> None:
    rng = draft.rng
    details = _details(draft, request_type, contract)
    steps = _stage_history(draft, stage)
    author = rng.choice(draft.authors)
    first_day, last = steps[0].day, steps[-1]
    request_id = draft.rows.add(
        Request,
        {
            "client_id": draft.client_id,
            "contract_id": contract.id if contract else None,
            "number": draft.world.numbers.number(f"WN/{first_day.year}/", first_day),
            "type": request_type,
            "stage": last.kind.stage,
            "details": details,
            "contact_name": author.person.full,
            "contact_email": author.email,
            "contact_phone": author.phone,
            "created_by_id": author.id,
            "created_at": at(first_day, 8),
            "updated_at": at(last.day, 8 + len(steps)),
            "due_on": response_due_on(request_type, first_day),
            **_decision(last, hour=8 + len(steps)),
        },
    )
    for position, step in enumerate(steps):
        # The client has not read staff's question yet: unread counts show in the portal.
        unread = step is last and last.kind is _ASK
        _stage_entry(draft, request_id, step, author, hour=8 + position + 1, unread=unread)


def _decision(last: _Step, hour: int) -> dict[str, object]:
    """Every row names the same columns (the demo inserts a table's rows in one form)."""
    decision = _DECISIONS.get(last.kind.stage)
    if decision is None:
        return {"decision": None, "decided_at": None, "answer": None}
    return {"decision": decision, "decided_at": at(last.day, hour), "answer": last.comment}


def _stage_history(draft: ClientDraft, stage: RequestStage) -> list[_Step]:
    """SUBMITTED, then a path to `stage`, each step 0–3 days after the one before."""
    rng = draft.rng
    path = rng.choice(_STAGE_PATHS[stage])
    final = stage in (RequestStage.COMPLETED, RequestStage.REJECTED)
    day = draft.today - timedelta(days=rng.randint(3 * len(path), 200 if final else 20))
    steps = [_Step(_SUBMIT, day, rng.choice(_SUBMIT.comments))]
    for kind in path:
        day += timedelta(days=rng.randint(0, 3))
        steps.append(_Step(kind, day, rng.choice(kind.comments)))
    return steps


def _stage_entry(
    draft: ClientDraft, request_id: int, step: _Step, author: UserRef, hour: int, *, unread: bool
) -> None:
    from_client = step.kind.from_client
    # Read by the other side an hour after it was written, but for the one left unread.
    read_at = None if unread else at(step.day, hour + 1)
    entry_id = draft.rows.add(
        RequestStageEntry,
        {
            "client_id": draft.client_id,
            "request_id": request_id,
            "stage": step.kind.stage,
            "comment": step.comment,
            "from_client": from_client,
            "author_id": author.id if from_client else draft.world.demo.staff.id,
            "created_at": at(step.day, hour),
            "updated_at": at(step.day, hour),
            "read_at": read_at,
        },
    )
    if step.kind is _REPLY:
        content = pdf(f"Odpis z KRS - {draft.name}")
        attach(draft, "odpis_KRS.pdf", "application/pdf", content, step.day, stage_id=entry_id)


def _details(draft: ClientDraft, request_type: RequestType, contract: ContractDraft | None) -> Row:
    """The kind's own fields as `requestFile` stores them: the names of its catalogue form
    (resolvers/request_catalogue.py), decimals as strings. The random draws are the same for
    every kind as before the forms existed, so the rest of the demo stays as it was."""
    rng, today = draft.rng, draft.today
    match request_type, contract:
        case RequestType.PAYMENT_DAY_CHANGE, ContractDraft(terms=terms):
            days = [d for d in (15, 20, 25) if d != terms.payment_day]
            return {
                "day": rng.choice(days),
                "reason": "OTHER",
                "reasonText": rng.choice(_PAYMENT_DAY_REASONS),
            }
        case RequestType.CONTRACT_VALUE_CHANGE, ContractDraft(terms=terms):
            value = round_money(terms.net_value * rng.randint(105, 125) / 100)
            change, _words = rng.choice(_VALUE_CHANGES)
            return {"change": change, "netAmount": str(value), "currency": "PLN"}
        case RequestType.SCHEDULE_CHANGE, ContractDraft(terms=terms):
            return {
                "residualPercent": str(rng.randint(1, 30)),
                "months": terms.months + rng.choice((6, 12)),
                "instalments": rng.choice(("KEEP", "AUTO")),
            }
        case RequestType.SCHEDULE_CHANGE_OFFER, ContractDraft(terms=terms):
            reason = rng.choice(_SCHEDULE_OFFER_REASONS)
            net = round_money(terms.net_value / terms.months)
            return {"comment": f"{reason}; oczekiwana rata netto około {net} zł."}
        case RequestType.EARLY_TERMINATION_OFFER, _:
            planned = today + timedelta(days=rng.randint(14, 90))
            reason = rng.choice(_TERMINATION_REASONS)
            return {"comment": f"{reason}, planowany termin {planned:%d.%m.%Y}."}
        case RequestType.POLICY_DUPLICATE, ContractDraft(policies=policies):
            rng.choice(("EMAIL", "POST"))  # the delivery the form no longer asks for
            return {"policyNumber": policies[-1]}
        case RequestType.DRIVING_ABROAD_AUTHORISATION, ContractDraft(vehicles=vehicles):
            rng.choice(vehicles)  # the car: the contract names it
            return _abroad_details(draft)
        case RequestType.COOPERATION_OPINION, _:
            return {
                "purpose": rng.choice(_OPINION_PURPOSES),
                "addressee": rng.choice(BANKS)[0],
            }
        case RequestType.REGISTERED_OFFICE_CHANGE, _:
            city = pick_city(rng)
            return {
                "street": street(rng),
                "postalCode": postal_code(rng, city),
                "city": city.name,
            }
        case RequestType.CLIENT_DATA_CHANGE, _:
            return {"phone": landline(rng, draft.city)}
    raise ValueError(f"{request_type} needs a contract that fits it")


def _abroad_details(draft: ClientDraft) -> Row:
    """A trip of 3–21 days within the month ahead: a one-month authorisation."""
    rng = draft.rng
    rng.randint(3, 30)  # when the trip starts: the form asks for the period only
    countries = sorted(rng.sample(_COUNTRIES, rng.randint(1, 3)))
    rng.randint(3, 21)  # how long it lasts
    return {
        "driverName": person(rng).full,
        "countries": ", ".join(countries),
        "periodMonths": 1,
    }
