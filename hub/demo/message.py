"""Message threads with customer service: a question about an invoice, a payment, a contract or
tyres, the answer, and a follow-up whose reply attaches a CSV statement of the client's payments;
open, answered or closed by how old the last answer is. The other side has read every message but
a question still open (customer service's inbox shows it unread) and, for a demo client, the
latest reply of an answered thread (the portal shows it unread)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hub.demo.attachment import attach
from hub.demo.draft import ClientDraft
from hub.demo.identity import UserRef
from hub.demo.rows import stamps
from models import Message, MessageThread
from models.message import MessageTopic, ThreadStatus


@dataclass(frozen=True, slots=True)
class _Topic:
    category: str  # the Polish name of `TOPIC_CODES`' topic
    subject: str
    question: str  # may name {contract}; then the thread is about one contract
    answer: str


_THREAD_TOPICS = (
    _Topic("Faktury", "Brak faktury za ratę",
           "Dzień dobry, nie otrzymaliśmy faktury za ostatnią ratę umowy {contract}. "
           "Prosimy o ponowne przesłanie.",
           "Dzień dobry, faktura została ponownie wysłana na adres {einvoice}. Jest też "
           "dostępna w portalu w zakładce Faktury."),
    _Topic("Płatności", "Nadpłata na koncie",
           "Dzień dobry, omyłkowo zapłaciliśmy dwa razy tę samą fakturę do umowy {contract}. "
           "Prosimy o zaliczenie nadpłaty na poczet kolejnej raty.",
           "Dzień dobry, nadpłatę zaliczymy na poczet najbliższej raty. Rozliczenie będzie "
           "widoczne w zakładce Rozrachunki."),
    _Topic("Umowa", "Wykup przedmiotu leasingu",
           "Dzień dobry, jakie są warunki wykupu przedmiotu leasingu po zakończeniu umowy "
           "{contract}?",
           "Dzień dobry, po zapłacie ostatniej raty wystawimy fakturę na wartość końcową z "
           "harmonogramu. Po jej opłaceniu prześlemy umowę sprzedaży."),
    _Topic("Ubezpieczenie", "Zgłoszenie szkody",
           "Dzień dobry, pojazd z umowy {contract} uczestniczył w kolizji. Co powinniśmy zrobić?",
           "Dzień dobry, prosimy zgłosić szkodę u ubezpieczyciela i przesłać nam numer szkody. "
           "Naprawa w serwisie partnerskim nie wymaga naszej zgody."),
    _Topic("Opony", "Termin wymiany opon",
           "Dzień dobry, kiedy możemy wymienić opony w pojeździe z umowy {contract}?",
           "Dzień dobry, wymianę można zamówić w zakładce Opony. Godzinę wizyty prosimy ustalić "
           "bezpośrednio z wybranym serwisem."),
    _Topic("Inne", "Zmiana osoby kontaktowej",
           "Dzień dobry, od przyszłego miesiąca sprawy umów przejmuje nasza księgowa. Jak zgłosić "
           "zmianę osoby kontaktowej?",
           "Dzień dobry, zmianę prosimy zgłosić wnioskiem „Zmiana danych klienta” w zakładce "
           "Wnioski."),
)  # fmt: skip
TOPIC_CODES = {
    "Faktury": MessageTopic.INVOICES,
    "Płatności": MessageTopic.PAYMENTS,
    "Umowa": MessageTopic.CONTRACT,
    "Ubezpieczenie": MessageTopic.INSURANCE,
    "Opony": MessageTopic.TYRES,
    "Inne": MessageTopic.OTHER,
}
_FOLLOW_UP = "Dziękuję. Czy mogę prosić jeszcze o zestawienie naszych wpłat z ostatnich miesięcy?"
_CLOSING = "Zestawienie wpłat przesyłamy w załączniku. W razie pytań pozostajemy do dyspozycji."


def add_threads(draft: ClientDraft) -> None:
    """Up to three threads, most of them recent; a demo client shows an open, an answered and
    a closed one."""
    rng = draft.rng
    if draft.rich:  # open, answered, closed (with an attachment)
        for length, age in ((1, rng.randint(2, 10)), (2, rng.randint(4, 10)), (4, 60)):
            _thread(draft, length, age)
        return
    for _ in range(rng.randint(0, 3)):
        age = min(2 + int(rng.expovariate(1 / 45)), 365)  # most threads are recent
        # Customer service answers within two weeks: only recent questions are still open.
        _thread(draft, rng.randint(1, 4) if age <= 14 else rng.choice((2, 4)), age)


def _thread(draft: ClientDraft, length: int, age: int) -> None:
    """Client and staff take turns from `age` days ago; an odd count leaves the client's
    question open; an answer older than two weeks closes the thread."""
    rng = draft.rng
    topic = rng.choice(_THREAD_TOPICS)
    contract = rng.choice(draft.contracts) if "{contract}" in topic.question else None
    number = contract.number if contract else ""
    texts = (
        topic.question.format(contract=number),
        topic.answer.format(einvoice=draft.einvoice_email),
        _FOLLOW_UP,
        _CLOSING,
    )[:length]
    days = [draft.today - timedelta(days=age)]
    for _ in texts[1:]:
        days.append(min(days[-1] + timedelta(days=rng.randint(1, 3)), draft.today))
    author = rng.choice(draft.authors)
    answered = length % 2 == 0
    if not answered:
        status = ThreadStatus.OPEN
    elif (draft.today - days[-1]).days <= 14:
        status = ThreadStatus.ANSWERED
    else:
        status = ThreadStatus.CLOSED
    thread_id = draft.rows.add(
        MessageThread,
        {
            "client_id": draft.client_id,
            "contract_id": contract.id if contract else None,
            "subject": topic.subject,
            "category": topic.category,
            "topic": TOPIC_CODES[topic.category],
            "status": status,
            # The final answer closes a thread; a reply before it leaves the thread ANSWERED.
            "final_answer": texts[-1] if status is ThreadStatus.CLOSED else None,
            "created_by_id": author.id,
            **stamps(days[0], days[-1]),
        },
    )
    # Unread: the open question (by staff) and a demo client's unread reply (by the client).
    unread_last = status is ThreadStatus.OPEN or (draft.rich and status is ThreadStatus.ANSWERED)
    for position, (text, day) in enumerate(zip(texts, days, strict=True)):
        read = not (unread_last and position == len(texts) - 1)
        _message(draft, thread_id, text, day, author if position % 2 == 0 else None, read=read)


def _message(
    draft: ClientDraft,
    thread_id: int,
    body: str,
    day: date,
    author: UserRef | None,
    *,
    read: bool,
) -> None:
    """A message from `author`, or from customer service when there is none."""
    staff = draft.world.demo.staff
    row = {
        "client_id": draft.client_id,
        "thread_id": thread_id,
        "from_staff": author is None,
        "author_id": (author or staff).id,
        "body": body,
        **stamps(day),
        "read_at": None,
    }
    message_id = draft.rows.add(Message, row)
    if read:  # when it came, as migration 0013 stamps older rows (never after the demo's now)
        row["read_at"] = row["created_at"]
    if body == _CLOSING:  # it promises the statement of payments
        attach(
            draft,
            "zestawienie_wplat.csv",
            "text/csv",
            _payments_csv(draft, day),
            day,
            message_id=message_id,
        )


def _payments_csv(draft: ClientDraft, until: date) -> bytes:
    lines = [
        f"{p['booked_on']:%d.%m.%Y};{str(p['amount']).replace('.', ',')};{p['title']}"
        for p in draft.payments
        if p["booked_on"] <= until
    ]
    return "\n".join(["Data księgowania;Kwota;Tytuł", *lines[-10:], ""]).encode()
