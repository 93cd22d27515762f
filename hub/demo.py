"""Deterministic Polish demo data for an empty, migrated LeaseHub database.

Every client is drawn from its own `random.Random(f"{seed}:{index}")`, so the batch size never
changes a row; what runs across clients (primary keys, invoice, contract and document numbers)
advances in generation order. Primary keys are assigned here rather than by the database, so one
client batch is a few bulk INSERTs in one transaction instead of a round trip per row, and memory
stays bounded by the batch. About 2,000 clients (730,000 rows) load in 45 s into SQLite.

Dates derive from `DemoSpec.today`, never from the clock, so one spec always gives the same rows;
only the three demo users' password hashes differ between runs (argon2 salts them).
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import math
import random
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

from auth.clock import warsaw_day_start, warsaw_today
from auth.passwords import hash_password
from auth.scopes import Scope
from hub.settings import Settings
from models import (
    Attachment,
    BankAccount,
    Client,
    Contract,
    Document,
    GatewayTransaction,
    Instalment,
    InsurancePolicy,
    Invoice,
    LeasedItem,
    Membership,
    Message,
    MessageThread,
    Payment,
    PaymentAllocation,
    Request,
    RequestStageEntry,
    TyreDeposit,
    TyreRelocation,
    TyreServiceCentre,
    User,
    Vehicle,
)
from models.base import to_money, utcnow
from models.contract import ContractKind, ContractStatus, Currency, ItemCategory, PolicyKind
from models.document import DOCUMENT_PREFIXES, DocumentKind
from models.finance import (
    SPLIT_PAYMENT_FROM,
    add_months,
    late_interest,
    repayment_schedule,
    round_money,
)
from models.identifiers import make_iban, make_ksef_number, make_nip, make_regon
from models.identity import StaffRole
from models.invoice import GatewayStatus, InvoiceKind, PaymentSource
from models.message import ThreadStatus
from models.request import RequestStage, RequestType
from models.tyre import RelocationStatus, TyreSeason

__all__ = [
    "DEMO_MAIN_EMAIL",
    "DEMO_PASSWORD",
    "DEMO_STAFF_EMAIL",
    "DEMO_SUB_EMAIL",
    "LESSOR_NIP",
    "SUBACCOUNT_SCOPES",
    "DemoDataExists",
    "DemoSpec",
    "load_demo",
]

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


Row = dict[str, Any]
Batch = dict[str, list[Row]]  # rows per table name
Converter = Callable[[Any], Any]
T = TypeVar("T")

# --- Tunables -------------------------------------------------------------------------------------

INSERT_CHUNK = 5000  # rows per executemany: bounds the parameter lists a driver holds at once
SQLITE_LOAD_CACHE = -64 * 1024  # PRAGMA cache_size while loading (negative: in KiB, so 64 MiB)
VAT_RATE = 23
# Statutory interest in commercial transactions is the NBP reference rate + 10 points; the demo
# uses one flat rate instead of the rate history.
LATE_INTEREST = Decimal("0.14")
MIN_INTEREST_NOTE = Decimal("10.00")  # smaller interest is not worth a note
RICH_CLIENTS = 2  # clients #1 and #2 show every case the portal can display
RICH_DOCUMENTS = 6  # the dashboard lists the six latest documents
CORRECTION_RATE = 0.03
TERMINATION_RATE = 0.02
# How invoices are settled. Not yet due: some paid early, a few in part. Past due: paid within
# days of the due date, some weeks late (and charged interest); three clients in ten are in
# arrears, on invoices of the last year of contracts not yet ended (older ones were collected).
EARLY_RATE = 0.12
EARLY_PART_RATE = 0.02
LATE_RATE = 0.04
ARREARS_CLIENT_RATE = 0.3
ARREARS_WINDOW = timedelta(days=365)
ARREARS_UNPAID_RATE = 0.5
ARREARS_PART_RATE = 0.15
OVERPAYMENT_RATE = 0.10
GATEWAY_RATE = 0.08
INSURED_VIA_LESSOR_RATE = 0.4  # the lessor insures the asset and re-invoices the premium
GAP_RATE = 0.25
COMPENSATION_RATE = 0.08
OTHER_DOCUMENT_RATE = 0.15
DEPOSIT_RATE = 0.8  # of vehicles on running contracts; the rest run on all-season tyres
RELOCATION_RATE = 0.05
CENTRES_TOTAL = 40
INACTIVE_CENTRES = 2
ONLINE_BOOKING_RATE = 0.3
LOCAL_CENTRE_RATE = 0.8  # a fleet stores its tyres in its own city when a centre is there
# Tyres in active deposits per client, measured on this generator (2,000 clients): centre
# capacities are sized from it so loads land where the target load says.
TYRES_PER_CLIENT = 5.9
CENTRE_TARGET_LOAD = (0.3, 0.7)
MIN_CENTRE_CAPACITY = 40

# --- Reference data -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _City:
    name: str
    postal: tuple[int, int]  # first and last postal code, as numbers (00-001 is 1)
    latitude: float
    longitude: float
    area_code: str
    plates: tuple[str, ...]
    weight: int  # share of clients and of tyre centres, roughly by size


_CITIES = (
    _City("Warszawa", (1, 4999), 52.2297, 21.0122, "22", ("WA", "WI", "WX", "WY"), 18),
    _City("Kraków", (30001, 31999), 50.0647, 19.9450, "12", ("KR",), 8),
    _City("Łódź", (90001, 94999), 51.7592, 19.4560, "42", ("EL",), 6),
    _City("Wrocław", (50001, 54999), 51.1079, 17.0385, "71", ("DW",), 7),
    _City("Poznań", (60001, 61999), 52.4064, 16.9252, "61", ("PO",), 6),
    _City("Gdańsk", (80001, 80999), 54.3520, 18.6466, "58", ("GD",), 5),
    _City("Szczecin", (70001, 71999), 53.4285, 14.5528, "91", ("ZS",), 4),
    _City("Bydgoszcz", (85001, 85999), 53.1235, 18.0084, "52", ("CB",), 3),
    _City("Lublin", (20001, 20999), 51.2465, 22.5684, "81", ("LU",), 3),
    _City("Białystok", (15001, 15999), 53.1325, 23.1688, "85", ("BI",), 3),
    _City("Katowice", (40001, 40999), 50.2649, 19.0238, "32", ("SK",), 5),
    _City("Gdynia", (81001, 81999), 54.5189, 18.5305, "58", ("GA",), 2),
    _City("Częstochowa", (42200, 42299), 50.8118, 19.1203, "34", ("SC",), 2),
    _City("Radom", (26600, 26699), 51.4027, 21.1471, "48", ("WR",), 2),
    _City("Toruń", (87100, 87199), 53.0138, 18.5984, "56", ("CT",), 2),
    _City("Kielce", (25001, 25999), 50.8661, 20.6286, "41", ("TK",), 2),
    _City("Rzeszów", (35001, 35999), 50.0412, 21.9991, "17", ("RZ",), 2),
    _City("Olsztyn", (10001, 10999), 53.7784, 20.4801, "89", ("NO",), 2),
    _City("Opole", (45001, 45999), 50.6751, 17.9213, "77", ("OP",), 2),
    _City("Zielona Góra", (65001, 65999), 51.9356, 15.5062, "68", ("FZ",), 1),
    _City("Bielsko-Biała", (43300, 43399), 49.8224, 19.0584, "33", ("SB",), 2),
    _City("Płock", (9400, 9499), 52.5463, 19.7065, "24", ("WP",), 1),
)
_CITY_WEIGHTS = tuple(city.weight for city in _CITIES)
_STREETS = (
    "ul. Piłsudskiego", "ul. Mickiewicza", "ul. Słowackiego", "ul. Kościuszki", "ul. Sienkiewicza",
    "ul. Jana Pawła II", "ul. Długa", "ul. Polna", "ul. Leśna", "ul. Ogrodowa", "ul. Przemysłowa",
    "ul. Składowa", "ul. Żeromskiego", "ul. Wojska Polskiego", "ul. Kolejowa", "ul. Łąkowa",
    "ul. Grunwaldzka", "ul. Fabryczna", "ul. Krakowska", "ul. Warszawska", "ul. Poznańska",
    "al. Niepodległości", "al. Solidarności", "ul. Świętokrzyska", "ul. Żwirki i Wigury",
    "ul. Szkolna", "ul. Kwiatowa", "ul. Źródlana",
)  # fmt: skip
_MALE_NAMES = (
    "Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Jan", "Michał", "Marcin", "Grzegorz",
    "Józef", "Łukasz", "Adam", "Zbigniew", "Jerzy", "Tadeusz", "Mateusz", "Dariusz", "Mariusz",
    "Wojciech", "Ryszard", "Jakub", "Maciej", "Kamil", "Rafał", "Robert", "Sławomir", "Dawid",
)  # fmt: skip
_FEMALE_NAMES = (
    "Anna", "Maria", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa", "Krystyna",
    "Elżbieta", "Magdalena", "Joanna", "Aleksandra", "Monika", "Zofia", "Teresa", "Danuta",
    "Natalia", "Julia", "Karolina", "Marta", "Beata", "Dorota", "Justyna", "Jolanta", "Grażyna",
)  # fmt: skip
_SURNAMES = (  # (male form, female form)
    ("Nowak", "Nowak"), ("Kowalski", "Kowalska"), ("Wiśniewski", "Wiśniewska"),
    ("Wójcik", "Wójcik"), ("Kowalczyk", "Kowalczyk"), ("Kamiński", "Kamińska"),
    ("Lewandowski", "Lewandowska"), ("Zieliński", "Zielińska"), ("Szymański", "Szymańska"),
    ("Woźniak", "Woźniak"), ("Dąbrowski", "Dąbrowska"), ("Kozłowski", "Kozłowska"),
    ("Jankowski", "Jankowska"), ("Mazur", "Mazur"), ("Kwiatkowski", "Kwiatkowska"),
    ("Krawczyk", "Krawczyk"), ("Piotrowski", "Piotrowska"), ("Grabowski", "Grabowska"),
    ("Pawłowski", "Pawłowska"), ("Michalski", "Michalska"), ("Nowicki", "Nowicka"),
    ("Adamczyk", "Adamczyk"), ("Dudek", "Dudek"), ("Zając", "Zając"), ("Wieczorek", "Wieczorek"),
    ("Jabłoński", "Jabłońska"), ("Król", "Król"), ("Majewski", "Majewska"),
    ("Olszewski", "Olszewska"), ("Jaworski", "Jaworska"), ("Wróbel", "Wróbel"),
    ("Malinowski", "Malinowska"), ("Pawlak", "Pawlak"), ("Witkowski", "Witkowska"),
    ("Walczak", "Walczak"), ("Stępień", "Stępień"), ("Górski", "Górska"), ("Sikora", "Sikora"),
    ("Ostrowski", "Ostrowska"), ("Baran", "Baran"), ("Szewczyk", "Szewczyk"),
    ("Tomaszewski", "Tomaszewska"), ("Pietrzak", "Pietrzak"), ("Marciniak", "Marciniak"),
    ("Zalewski", "Zalewska"), ("Jakubowski", "Jakubowska"), ("Zawadzki", "Zawadzka"),
    ("Sadowski", "Sadowska"), ("Bąk", "Bąk"), ("Chmielewski", "Chmielewska"),
    ("Włodarczyk", "Włodarczyk"), ("Czarnecki", "Czarnecka"), ("Sawicki", "Sawicka"),
)  # fmt: skip
_BRAND_HEADS = (
    "Trans", "Bud", "Agro", "Elektro", "Metal", "Drew", "Eko", "Hydro", "Termo", "Stal", "Auto",
    "Rol", "Med", "Pol", "Inter", "Tech", "Kom", "Farm", "Opal", "Wod",
)  # fmt: skip
_BRAND_TAILS = (
    "bud", "mex", "pol", "trans", "plast", "rex", "tech", "serwis", "max", "net", "gaz", "met",
    "kom", "tor", "san",
)  # fmt: skip
_MOBILE_PREFIXES = ("50", "51", "53", "57", "60", "66", "69", "72", "78", "79", "88")
# (bank, first 7 digits of its sort code); the lessor keeps its virtual accounts in the first four
_BANKS = (
    ("Bank Pekao", "1240602"), ("mBank", "1140200"), ("PKO Bank Polski", "1020105"),
    ("ING Bank Śląski", "1050144"), ("Santander Bank Polska", "1090101"),
    ("Bank Millennium", "1160220"), ("Alior Bank", "2490001"),
    ("BNP Paribas Bank Polska", "1600128"), ("Credit Agricole Bank Polska", "1940101"),
    ("Citi Handlowy", "1030150"),
)  # fmt: skip
_LESSOR_BANKS = _BANKS[:4]
_CATEGORY_WEIGHTS = (
    (ItemCategory.VEHICLE, 60),
    (ItemCategory.MACHINE, 25),
    (ItemCategory.IT_EQUIPMENT, 15),
)
_KIND_WEIGHTS = (
    (ContractKind.OPERATING_LEASE, 55),
    (ContractKind.FINANCIAL_LEASE, 35),
    (ContractKind.LOAN, 10),
)
_TERMS = (24, 36, 36, 48, 48, 60)
_PAYMENT_DAYS = (10, 15, 20, 25)


@dataclass(frozen=True, slots=True)
class _VehicleModel:
    label: str
    make: str
    model: str
    tyre_size: str
    wmi: str  # the manufacturer prefix of its VINs


_VEHICLE_MODELS = (
    _VehicleModel("Samochód osobowy", "Škoda", "Octavia", "205/55 R16", "TMB"),
    _VehicleModel("Samochód osobowy", "Škoda", "Superb", "215/55 R17", "TMB"),
    _VehicleModel("Samochód osobowy", "Toyota", "Corolla", "205/55 R16", "SB1"),
    _VehicleModel("Samochód osobowy", "Volkswagen", "Passat", "215/55 R17", "WVW"),
    _VehicleModel("Samochód osobowy", "Kia", "Ceed", "205/55 R16", "U5Y"),
    _VehicleModel("Samochód osobowy", "Hyundai", "Tucson", "225/60 R17", "TMA"),
    _VehicleModel("Samochód osobowy", "Audi", "A4", "225/50 R17", "WAU"),
    _VehicleModel("Samochód osobowy", "BMW", "320d", "225/45 R18", "WBA"),
    _VehicleModel("Samochód osobowy", "Dacia", "Duster", "215/65 R16", "UU1"),
    _VehicleModel("Samochód osobowy", "Opel", "Astra", "205/55 R16", "W0L"),
    _VehicleModel("Samochód dostawczy", "Ford", "Transit Custom", "215/65 R16C", "WF0"),
    _VehicleModel("Samochód dostawczy", "Renault", "Master", "225/65 R16C", "VF1"),
    _VehicleModel("Samochód dostawczy", "Mercedes-Benz", "Sprinter", "235/65 R16C", "WDB"),
    _VehicleModel("Samochód dostawczy", "Fiat", "Ducato", "215/70 R15C", "ZFA"),
    _VehicleModel("Samochód dostawczy", "Iveco", "Daily", "225/65 R16C", "ZCF"),
    _VehicleModel("Samochód dostawczy", "Citroën", "Berlingo", "205/60 R16", "VF7"),
    _VehicleModel("Ciągnik siodłowy", "Volvo", "FH 500", "315/70 R22.5", "YV2"),
    _VehicleModel("Ciągnik siodłowy", "Scania", "R 450", "315/70 R22.5", "YS2"),
    _VehicleModel("Ciągnik siodłowy", "DAF", "XF 480", "315/70 R22.5", "XLR"),
)
_VIN_CHARACTERS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # a VIN never uses I, O or Q
# (name, manufacturer, model, serial-number prefix)
_EQUIPMENT: dict[ItemCategory, tuple[tuple[str, str, str, str], ...]] = {
    ItemCategory.MACHINE: (
        ("Koparko-ładowarka", "JCB", "3CX", "JCB3CX"),
        ("Wózek widłowy", "Toyota", "8FBE15T", "TMHE"),
        ("Ładowarka teleskopowa", "Manitou", "MT 1440", "MAN"),
        ("Ciągnik rolniczy", "John Deere", "6155R", "1L06155R"),
        ("Ciągnik rolniczy", "Ursus", "C-380", "URS"),
        ("Kombajn zbożowy", "Claas", "Lexion 760", "C76"),
        ("Koparka gąsienicowa", "Caterpillar", "320", "CAT0320"),
        ("Centrum obróbcze CNC", "DMG Mori", "DMU 50", "DMU"),
        ("Prasa krawędziowa", "Amada", "HFE 100-3", "AMD"),
    ),
    ItemCategory.IT_EQUIPMENT: (
        ("Serwer", "Dell", "PowerEdge R750", "SRV"),
        ("Macierz dyskowa", "HPE", "MSA 2060", "HPE"),
        ("Przełącznik sieciowy", "Cisco", "Catalyst 9300", "FCW"),
        ("Zestaw laptopów (25 szt.)", "Lenovo", "ThinkPad T14", "PF"),
        ("Drukarka produkcyjna", "Konica Minolta", "AccurioPress C4080", "A9V"),
        ("Stacje robocze (10 szt.)", "HP", "Z4 G5", "CZC"),
    ),
}
_INSURERS = (
    ("PZU", "PZU"),
    ("Warta", "WAR"),
    ("Allianz", "ALZ"),
    ("Ergo Hestia", "EH"),
    ("Generali", "GEN"),
    ("Compensa", "CMP"),
)
_POLICY_NAMES = {PolicyKind.OC_AC: "OC/AC", PolicyKind.PROPERTY: "mienia", PolicyKind.GAP: "GAP"}
_DOCUMENT_DETAILS = ("invoice_id", "basis_amount", "period_start", "period_end", "annual_rate")
_OTHER_DOCUMENTS = (
    "Zaświadczenie o niezaleganiu w płatnościach",
    "Informacja o wysokości zadłużenia",
    "Aneks do umowy – zmiana harmonogramu spłat",
    "Duplikat polisy ubezpieczeniowej",
    "Upoważnienie do wyjazdu pojazdem za granicę",
    "Zestawienie faktur za poprzedni rok",
)
_CORRECTION_REASONS = ("rabat", "błędna stawka ubezpieczenia", "zmiana wartości przedmiotu")
_OVERPAYMENTS = (100, 250, 500, 1000, 1500)
_CENTRE_BRANDS = (
    "Opon-Max", "Koło-Serwis", "Gumtech", "Auto-Opony", "Centrum Oponiarskie", "Bieżnik",
    "Wulkanizacja Felga", "Oponiarz", "Ogumienie Plus", "Opony i Felgi 24",
)  # fmt: skip

# --- Requests and messages ------------------------------------------------------------------------

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
_EQUIPMENT_ADDITIONS = (
    "Doposażenie pojazdu w zabudowę chłodniczą",
    "Dodatkowy osprzęt: łyżka skarpowa i młot hydrauliczny",
    "Zmiana ceny zakupu po negocjacjach z dostawcą",
)
_OPINION_PURPOSES = ("Wniosek o kredyt obrotowy", "Przetarg publiczny", "Nowy kontrahent")
_TERMINATION_REASONS = ("Sprzedaż przedmiotu leasingu", "Wcześniejszy wykup", "Likwidacja szkody")
_SCHEDULE_OFFER_REASONS = ("Sezonowość przychodów", "Obniżenie wysokości raty")
_COUNTRIES = ("DE", "CZ", "SK", "AT", "LT", "FR", "NL", "IT")


@dataclass(frozen=True, slots=True)
class _Topic:
    category: str
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
_FOLLOW_UP = "Dziękuję. Czy mogę prosić jeszcze o zestawienie naszych wpłat z ostatnich miesięcy?"
_CLOSING = "Zestawienie wpłat przesyłamy w załączniku. W razie pytań pozostajemy do dyspozycji."

# --- Small helpers --------------------------------------------------------------------------------


def _pick(rng: random.Random, weighted: Sequence[tuple[T, int]]) -> T:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _ascii(text: str) -> str:
    """Polish letters folded to ASCII (ł has no decomposition, so it is mapped by hand)."""
    folded = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return folded.encode("ascii", "ignore").decode()


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", _ascii(text).lower()))


@lru_cache(maxsize=16384)
def _at(day: date, hour: int = 9) -> datetime:
    """A UTC timestamp derived from a generated date, never from the clock: runs repeat."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _stamps(created: date, updated: date | None = None) -> dict[str, datetime]:
    return {"created_at": _at(created), "updated_at": _at(updated or created)}


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max((last - first).days, 0)))


def _split(rng: random.Random, total: Decimal, parts: int) -> list[Decimal]:
    """`total` in `parts` uneven shares that add up to it exactly."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    shares = [round_money(total * Decimal(w / sum(weights))) for w in weights[:-1]]
    return [*shares, total - sum(shares, Decimal(0))]


def _pdf(text: str) -> bytes:
    """A one-page PDF with one line of text, so attachment downloads have real bytes."""
    line = _ascii(text).replace("\\", "").replace("(", "[").replace(")", "]")
    stream = f"BT /F1 14 Tf 72 770 Td ({line}) Tj ET".encode()
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref, size = len(out), len(bodies) + 1  # object 0 is the free list's head
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class _Person:
    first: str
    last: str

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


def _person(rng: random.Random) -> _Person:
    female = rng.random() < 0.45
    surname = rng.choice(_SURNAMES)[female]
    return _Person(rng.choice(_FEMALE_NAMES if female else _MALE_NAMES), surname)


def _mobile(rng: random.Random) -> str:
    prefix = rng.choice(_MOBILE_PREFIXES)
    return f"+48 {prefix}{rng.randint(0, 9)} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}"


def _landline(rng: random.Random, city: _City) -> str:
    number = f"{rng.randint(200, 899)} {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"
    return f"+48 {city.area_code} {number}"


def _street(rng: random.Random) -> str:
    number = str(rng.randint(1, 180))
    if rng.random() < 0.3:
        number += f"/{rng.randint(1, 40)}"
    return f"{rng.choice(_STREETS)} {number}"


def _postal_code(rng: random.Random, city: _City) -> str:
    code = rng.randint(*city.postal)
    code += code % 1000 == 0  # no code ends in 000
    return f"{code // 1000:02d}-{code % 1000:03d}"


def _city(rng: random.Random) -> _City:
    return rng.choices(_CITIES, _CITY_WEIGHTS)[0]


def _company_name(rng: random.Random, owner: _Person) -> tuple[str, str]:
    """A Polish-sounding company name and the base of its e-mail domain."""
    head = rng.choice(_BRAND_HEADS)
    tail = rng.choice([t for t in _BRAND_TAILS if t != head.lower()])
    brand, spaced = head + tail, f"{head}-{tail.capitalize()}"
    surname = owner.last
    return rng.choice(
        (
            (f"{brand} {surname} sp. z o.o.", f"{brand}-{surname}"),
            (f"{brand} sp. z o.o.", brand),
            (f"{spaced} S.A.", spaced),
            (f"Usługi Transportowe {owner.full}", f"transport-{surname}"),
            (f"PHU {brand} {owner.full}", f"{brand}-{surname}"),
            (f"{brand} {surname} i Wspólnicy sp.j.", f"{brand}-{surname}"),
            (f"{surname} Logistyka sp. z o.o. sp.k.", f"{surname}-logistyka"),
            (f"Gospodarstwo Rolne {owner.full}", f"gr-{surname}"),
        )
    )


def _vin(rng: random.Random, wmi: str) -> str:
    descriptor = "".join(rng.choices(_VIN_CHARACTERS, k=8))
    return f"{wmi}{descriptor}{rng.randint(0, 999_999):06d}"


def _registration(rng: random.Random, city: _City) -> str:
    prefix = rng.choice(city.plates)
    if rng.random() < 0.7:
        return f"{prefix}{rng.randint(10_000, 99_999)}"
    return f"{prefix}{rng.randint(1000, 9999)}{rng.choice('ACEHKLMNPRSTUWXY')}"


def _tyre_swaps(today: date) -> list[tuple[date, TyreSeason]]:
    """The last three seasonal changes, latest first, with the set that went into storage."""
    swaps = []
    for year in range(today.year, today.year - 3, -1):
        swaps += [(date(year, 10, 20), TyreSeason.SUMMER), (date(year, 4, 1), TyreSeason.WINTER)]
    return [swap for swap in swaps if swap[0] <= today][:3]


# --- Shared state ---------------------------------------------------------------------------------


class _Counters:
    """Counters that run across clients (primary keys per table, document numbers)."""

    def __init__(self) -> None:
        self._last: Counter[str] = Counter()

    def next(self, key: str) -> int:
        self._last[key] += 1
        return self._last[key]


class _Rows:
    """One batch of rows per table, primary keys drawn from the shared counters.

    No row is stamped after `stamped_until`: rows dated today (or planned for later) would
    otherwise carry a time still to come, and every incremental pull until then would report
    them as changes.
    """

    def __init__(self, counters: _Counters, stamped_until: datetime) -> None:
        self._counters = counters
        self._until = stamped_until
        self.by_table: defaultdict[str, list[Row]] = defaultdict(list)

    def add(self, model: type[SQLModel], row: Row) -> int:
        name = model.__table__.name  # type: ignore[attr-defined]
        for stamp in _STAMPS:
            if row.get(stamp, self._until) > self._until:
                row[stamp] = self._until
        row["id"] = row_id = self._counters.next(name)
        self.by_table[name].append(row)
        return row_id


_STAMPS = ("created_at", "updated_at")


@dataclass(frozen=True, slots=True)
class _UserRef:
    id: int
    person: _Person
    email: str
    phone: str


def _add_user(
    rows: _Rows,
    person: _Person,
    email: str,
    phone: str,
    since: date,
    *,
    password_hash: str | None = None,
    staff_role: StaffRole | None = None,
) -> _UserRef:
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
            **_stamps(since),
        },
    )
    return _UserRef(user_id, person, email, phone)


_ALL_SCOPES = sorted(scope.value for scope in Scope)
_SUBACCOUNT_SCOPES = [scope.value for scope in SUBACCOUNT_SCOPES]


def _add_membership(
    rows: _Rows,
    user: _UserRef,
    client_id: int,
    since: date,
    *,
    created_by: _UserRef | None = None,
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
            **_stamps(since),
        },
    )


@dataclass(frozen=True, slots=True)
class _DemoUsers:
    main: _UserRef
    sub: _UserRef
    staff: _UserRef


@dataclass(frozen=True, slots=True)
class _CentreDraft:
    city: _City
    brand: str
    size: float  # relative share of the lessor's tyres the centre takes
    active: bool


class _CentreNetwork:
    """Active centres to store tyres at: mostly in the fleet's own city, weighted by size."""

    def __init__(self, drafts: Sequence[_CentreDraft], ids: Sequence[int]) -> None:
        active = [(i, d) for i, d in zip(ids, drafts, strict=True) if d.active]
        self._everywhere = ([i for i, _ in active], [d.size for _, d in active])
        local: defaultdict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for centre_id, draft in active:
            local[draft.city.name][0].append(centre_id)
            local[draft.city.name][1].append(draft.size)
        self._local = dict(local)

    def pick(self, rng: random.Random, city: _City, avoid: int | None = None) -> int:
        while True:
            local = self._local.get(city.name)
            ids, sizes = local if local and rng.random() < LOCAL_CENTRE_RATE else self._everywhere
            centre_id = rng.choices(ids, sizes)[0]
            if centre_id != avoid:
                return centre_id


def _expected_tyre_shares(drafts: Sequence[_CentreDraft]) -> list[float]:
    """Each centre's expected share of all stored tyres under `_CentreNetwork.pick`: a fleet
    stores locally at LOCAL_CENTRE_RATE when its city has an active centre, otherwise anywhere,
    both weighted by centre size; clients live in cities by `_City.weight`."""
    total_weight = sum(_CITY_WEIGHTS)
    size_everywhere = sum(d.size for d in drafts if d.active)
    size_in_city: defaultdict[str, float] = defaultdict(float)
    for draft in drafts:
        size_in_city[draft.city.name] += draft.size if draft.active else 0.0
    served = sum(c.weight for c in _CITIES if size_in_city[c.name]) / total_weight
    picked_anywhere = 1 - LOCAL_CENTRE_RATE * served
    shares = []
    for draft in drafts:
        if not draft.active:
            shares.append(0.0)
            continue
        local = LOCAL_CENTRE_RATE * draft.city.weight / total_weight / size_in_city[draft.city.name]
        shares.append(draft.size * (local + picked_anywhere / size_everywhere))
    return shares


class _DemoWorld:
    """What every client shares: counters, unique names, demo users and the centre network."""

    def __init__(self, spec: DemoSpec) -> None:
        self.spec = spec
        self.counters = _Counters()
        self._nips = {LESSOR_NIP}
        self._domains: set[str] = set()
        # Demo users and centres go into the first batch: a failed first batch leaves nothing.
        # The demo is "as of" the start of its day in Warsaw: never later than the moment it runs.
        self.stamped_until = warsaw_day_start(spec.today)
        self._first_rows: _Rows | None = self._rows()
        self.demo = self._demo_users(self._first_rows)
        self.centres = self._centres(self._first_rows)

    def batch(self, first: int, last: int) -> Batch:
        """The rows of clients `first`..`last` per table; batches must be asked for in order."""
        rows, self._first_rows = self._first_rows or self._rows(), None
        for index in range(first, last + 1):
            _ClientFactory(self, rows, index).build()
        return dict(rows.by_table)

    def _rows(self) -> _Rows:
        return _Rows(self.counters, self.stamped_until)

    def claim_nip(self, rng: random.Random) -> str:
        nip = make_nip(rng)
        while nip in self._nips:
            nip = make_nip(rng)
        self._nips.add(nip)
        return nip

    def claim_domain(self, base: str) -> str:
        """A unique company domain, so generated e-mail addresses never collide."""
        slug, suffix = _slug(base), 1
        domain = f"{slug}.pl"
        while domain in self._domains:
            suffix += 1
            domain = f"{slug}{suffix}.pl"
        self._domains.add(domain)
        return domain

    def _demo_users(self, rows: _Rows) -> _DemoUsers:
        since = self.spec.today - timedelta(days=3 * 365)

        def add(person: _Person, email: str, phone: str, role: StaffRole | None = None) -> _UserRef:
            # A hash per user, salted apart, as if each had set the password themselves.
            secret = hash_password(DEMO_PASSWORD)
            return _add_user(
                rows, person, email, phone, since, password_hash=secret, staff_role=role
            )

        return _DemoUsers(
            main=add(_Person("Anna", "Kowalska"), DEMO_MAIN_EMAIL, "+48 601 234 567"),
            sub=add(_Person("Jan", "Nowak"), DEMO_SUB_EMAIL, "+48 602 345 678"),
            staff=add(
                _Person("Ewa", "Zielińska"), DEMO_STAFF_EMAIL, "+48 22 555 01 00", StaffRole.ADMIN
            ),
        )

    def _centres(self, rows: _Rows) -> _CentreNetwork:
        rng = random.Random(f"{self.spec.seed}:centres")
        drafts = self._centre_drafts(rng)
        expected_tyres = max(self.spec.clients, 1) * TYRES_PER_CLIENT
        shares = _expected_tyre_shares(drafts)
        ids = []
        for draft, share in zip(drafts, shares, strict=True):
            target = rng.uniform(*CENTRE_TARGET_LOAD)
            # A closed centre keeps the capacity of an average one.
            tyres = expected_tyres * (share if draft.active else 1 / len(drafts))
            capacity = max(MIN_CENTRE_CAPACITY, math.ceil(tyres / target / 20) * 20)
            ids.append(self._centre_row(rows, rng, draft, capacity))
        return _CentreNetwork(drafts, ids)

    @staticmethod
    def _centre_drafts(rng: random.Random) -> list[_CentreDraft]:
        """About CENTRES_TOTAL centres spread over the cities like the clients are."""
        total = sum(_CITY_WEIGHTS)
        placed = []  # (city, brand, whether the city has other centres)
        for city in _CITIES:
            count = max(1, round(CENTRES_TOTAL * city.weight / total))
            placed += [(city, brand, count > 1) for brand in rng.sample(_CENTRE_BRANDS, count)]
        # Closed centres only where the city keeps another one.
        crowded = [i for i, (_, _, shared) in enumerate(placed) if shared]
        closed = set(rng.sample(crowded, INACTIVE_CENTRES))
        return [
            _CentreDraft(city, brand, rng.uniform(0.6, 1.6), i not in closed)
            for i, (city, brand, _) in enumerate(placed)
        ]

    def _centre_row(
        self, rows: _Rows, rng: random.Random, draft: _CentreDraft, capacity: int
    ) -> int:
        name = f"{draft.brand} {draft.city.name}"
        booking = rng.random() < ONLINE_BOOKING_RATE
        return rows.add(
            TyreServiceCentre,
            {
                "name": name,
                "street": _street(rng),
                "postal_code": _postal_code(rng, draft.city),
                "city": draft.city.name,
                "latitude": round(draft.city.latitude + rng.uniform(-0.04, 0.04), 6),
                "longitude": round(draft.city.longitude + rng.uniform(-0.06, 0.06), 6),
                "phone": _landline(rng, draft.city),
                "capacity": capacity,
                "online_booking_url": f"https://rezerwacje.{_slug(name)}.pl/" if booking else None,
                "is_active": draft.active,
                **_stamps(self.spec.today - timedelta(days=4 * 365)),
            },
        )


# --- One client -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Terms:
    category: ItemCategory
    kind: ContractKind
    start: date
    months: int
    net_value: Decimal
    initial_fee: Decimal
    residual: Decimal
    rate: Decimal
    payment_day: int
    showcase: bool  # a demo client's long-running vehicle contract


@dataclass(frozen=True, slots=True)
class _LeasedVehicle:
    model: _VehicleModel
    vin: str
    registration: str


@dataclass(slots=True)
class _Contract:
    id: int
    number: str
    terms: _Terms
    status: ContractStatus
    end: date
    vehicles: list[_LeasedVehicle] = field(default_factory=list)
    policies: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status is ContractStatus.ACTIVE


@dataclass(slots=True)
class _Invoice:
    id: int
    number: str
    kind: InvoiceKind
    contract: _Contract
    issue: date
    due: date
    gross: Decimal
    due_amount: Decimal  # gross after corrections: what a full payment allocates


class _Outcome(enum.Enum):
    ON_TIME = enum.auto()
    LATE = enum.auto()
    PARTIAL = enum.auto()
    UNPAID = enum.auto()
    EARLY = enum.auto()


@dataclass(frozen=True, slots=True)
class _Step:
    kind: _StepKind
    day: date
    comment: str


class _ClientFactory:
    """Everything of one client, drawn from the client's own random stream in a fixed order."""

    def __init__(self, world: _DemoWorld, rows: _Rows, index: int) -> None:
        self.world = world
        self.rows = rows
        self.index = index
        self.rng = random.Random(f"{world.spec.seed}:{index}")
        self.today = world.spec.today
        self.rich = index <= RICH_CLIENTS
        self.client_id = 0
        self.name = ""
        self.domain = ""
        self.einvoice_email = ""
        self.payer_iban = ""
        self.city = _CITIES[0]
        self.authors: tuple[_UserRef, ...] = ()
        self.contracts: list[_Contract] = []
        self.invoices: list[_Invoice] = []  # corrections excluded: they are settled by their base
        self.payments: list[Row] = []
        self.paid_in_full: list[tuple[Row, _Invoice]] = []
        self.issued: list[tuple[date, Decimal]] = []  # every invoice's gross, for balances
        self.documents = 0
        self.relocations = 0

    @property
    def main(self) -> _UserRef:
        return self.authors[0]

    def build(self) -> None:
        terms = [self._terms(position) for position in range(self._contract_count())]
        since = min(t.start for t in terms) - timedelta(days=self.rng.randint(3, 60))
        owner = self._client(since)
        self._bank_accounts(since)
        self._users(owner, min(t.start for t in terms))
        for contract_terms in terms:
            self._contract(contract_terms)
        self._settle()
        self._documents()
        self._requests()
        self._threads()
        self._fleet()

    # Client, accounts, users

    def _client(self, since: date) -> _Person:
        rng = self.rng
        self.city = _city(rng)
        owner = _person(rng)
        self.name, domain_base = _company_name(rng, owner)
        self.domain = self.world.claim_domain(domain_base)
        self.einvoice_email = f"{rng.choice(('faktury', 'ksiegowosc', 'efaktury'))}@{self.domain}"
        self.client_id = self.rows.add(
            Client,
            {
                "number": str(100000 + self.index),
                "name": self.name,
                "nip": self.world.claim_nip(rng),
                "regon": make_regon(rng),
                "street": _street(rng),
                "postal_code": _postal_code(rng, self.city),
                "city": self.city.name,
                "country": "PL",
                "email": f"biuro@{self.domain}",
                "phone": _landline(rng, self.city),
                "einvoice_email": self.einvoice_email,
                **_stamps(since),
            },
        )
        self.payer_iban = make_iban(rng, rng.choice(_BANKS)[1])
        return owner

    def _bank_accounts(self, since: date) -> None:
        """The lessor's virtual accounts for this client's repayments; a few also take EUR."""
        rng = self.rng
        for position in range(2 if rng.random() < 0.3 else 1):
            bank, code = rng.choice(_LESSOR_BANKS)
            self.rows.add(
                BankAccount,
                {
                    "client_id": self.client_id,
                    "iban": make_iban(rng, code),
                    "bank_name": bank,
                    "currency": "EUR" if position and rng.random() < 0.5 else "PLN",
                    "is_default": position == 0,
                    **_stamps(since),
                },
            )

    def _users(self, owner: _Person, since: date) -> None:
        """Access comes with the first invoice (AUTH-8); demo clients belong to Anna Kowalska."""
        demo = self.world.demo
        if self.rich:
            _add_membership(self.rows, demo.main, self.client_id, since)
            self.authors = (demo.main,)
        else:
            email = f"{_slug(owner.first)}.{_slug(owner.last)}@{self.domain}"
            main = _add_user(self.rows, owner, email, _mobile(self.rng), since)
            _add_membership(self.rows, main, self.client_id, since)
            self.authors = (main,)
        if self.index == 1:
            _add_membership(self.rows, demo.sub, self.client_id, since, created_by=demo.main)
            self.authors = (demo.main, demo.sub)

    # Contracts, items, schedules, policies

    def _contract_count(self) -> int:
        count = self.rng.randint(*self.world.spec.contracts_per_client)
        return max(count, 3) if self.rich else count

    def _terms(self, position: int) -> _Terms:
        rng, today = self.rng, self.today
        showcase = self.rich and position < 2
        if showcase:  # running long enough for history, far from its end
            months_ago = rng.randint(14, 30) if position == 0 else rng.randint(3, 10)
            start = add_months(today, -months_ago, today.day)
            months, category = 48, ItemCategory.VEHICLE
        else:
            earliest, latest = add_months(today, -60, today.day), add_months(today, -1, today.day)
            start, months = _day_between(rng, earliest, latest), rng.choice(_TERMS)
            category = _pick(rng, _CATEGORY_WEIGHTS)
        net = to_money(rng.randrange(40_000, 600_001, 100))
        return _Terms(
            category=category,
            kind=_pick(rng, _KIND_WEIGHTS),
            start=start,
            months=months,
            net_value=net,
            initial_fee=round_money(net * rng.randint(10, 20) / 100),
            residual=round_money(net * rng.randint(1, 30) / 100),
            rate=Decimal(rng.randint(600, 1100)).scaleb(-4),
            payment_day=rng.choice(_PAYMENT_DAYS),
            showcase=showcase,
        )

    def _contract(self, terms: _Terms) -> None:
        first_due = add_months(terms.start, 1, terms.payment_day)
        status, end = self._status(
            terms, add_months(first_due, terms.months - 1, terms.payment_day)
        )
        prefix = "UP" if terms.kind is ContractKind.LOAN else "UL"  # umowa pożyczki / leasingu
        number = f"{prefix}/{terms.start:%Y/%m}/{self.world.counters.next('contract-number'):05d}"
        contract_id = self.rows.add(
            Contract,
            {
                "client_id": self.client_id,
                "number": number,
                "kind": terms.kind,
                "status": status,
                "currency": Currency.PLN,
                "start_date": terms.start,
                "end_date": end,
                "net_value": terms.net_value,
                "initial_fee": terms.initial_fee,
                "residual_value": terms.residual,
                "annual_rate": terms.rate,
                "term_months": terms.months,
                "payment_day": terms.payment_day,
                **_stamps(terms.start, end if end < self.today else terms.start),
            },
        )
        contract = _Contract(contract_id, number, terms, status, end)
        self.contracts.append(contract)
        self._items(contract)
        self._issue(
            contract,
            InvoiceKind.INITIAL_FEE,
            issue=terms.start,
            due=terms.start + timedelta(days=7),
            net=terms.initial_fee,
            description=f"Opłata wstępna – umowa {number}",
        )
        self._schedule(contract, first_due)
        self._policies(contract)

    def _status(self, terms: _Terms, last_due: date) -> tuple[ContractStatus, date]:
        """Status and end date: a terminated contract ends on the day it was terminated."""
        stoppable_from = add_months(terms.start, 12, terms.start.day)
        stoppable_to = min(last_due, self.today) - timedelta(days=1)
        if (
            self.rng.random() < TERMINATION_RATE
            and not terms.showcase
            and stoppable_from < stoppable_to
        ):
            return ContractStatus.TERMINATED, _day_between(self.rng, stoppable_from, stoppable_to)
        return (ContractStatus.ENDED if last_due < self.today else ContractStatus.ACTIVE), last_due

    def _items(self, contract: _Contract) -> None:
        terms, rng = contract.terms, self.rng
        count = rng.randint(2, 3) if terms.showcase else rng.randint(1, 3)
        for value in _split(rng, terms.net_value, count):
            described = (
                self._vehicle_item(contract)
                if terms.category is ItemCategory.VEHICLE
                else self._equipment_item(terms.category)
            )
            self.rows.add(
                LeasedItem,
                {
                    "client_id": self.client_id,
                    "contract_id": contract.id,
                    "category": terms.category,
                    "net_value": value,
                    "production_year": terms.start.year - rng.choice((0, 0, 0, 1, 2)),
                    **described,
                    **_stamps(terms.start),
                },
            )

    def _vehicle_item(self, contract: _Contract) -> Row:
        model = self.rng.choice(_VEHICLE_MODELS)
        vehicle = _LeasedVehicle(
            model, _vin(self.rng, model.wmi), _registration(self.rng, self.city)
        )
        contract.vehicles.append(vehicle)
        return {
            "name": f"{model.label} {model.make} {model.model}",
            "manufacturer": model.make,
            "model": model.model,
            "serial_number": None,
            "vin": vehicle.vin,
            "registration_number": vehicle.registration,
        }

    def _equipment_item(self, category: ItemCategory) -> Row:
        name, make, model, serial_prefix = self.rng.choice(_EQUIPMENT[category])
        serial = f"{serial_prefix}{self.rng.randint(10_000_000, 99_999_999)}"
        return {
            "name": f"{name} {make} {model}",
            "manufacturer": make,
            "model": model,
            "serial_number": serial,
            "vin": None,
            "registration_number": None,
        }

    def _schedule(self, contract: _Contract, first_due: date) -> None:
        """The whole schedule; instalments due within 14 days (or before a termination) are
        invoiced, each invoice issued 14 days before its due date."""
        terms = contract.terms
        invoiced_until = min(self.today + timedelta(days=14), contract.end)
        schedule = repayment_schedule(
            capital=terms.net_value - terms.initial_fee,
            annual_rate=terms.rate,
            months=terms.months,
            residual=terms.residual,
            first_due=first_due,
            payment_day=terms.payment_day,
            vat_rate=VAT_RATE,
        )
        for row in schedule:
            invoice = None
            if row.due_date <= invoiced_until:
                invoice = self._issue(
                    contract,
                    InvoiceKind.INSTALMENT,
                    issue=row.due_date - timedelta(days=14),
                    due=row.due_date,
                    net=row.net,
                    description=f"Rata {row.number}/{terms.months} – umowa {contract.number}",
                )
            self.rows.add(
                Instalment,
                {
                    "client_id": self.client_id,
                    "contract_id": contract.id,
                    "number": row.number,
                    "due_date": row.due_date,
                    "capital": row.capital,
                    "interest": row.interest,
                    "net": row.net,
                    "vat_rate": VAT_RATE,
                    "vat": row.vat,
                    "gross": row.gross,
                    "remaining_capital": row.remaining_capital,
                    "invoice_id": invoice.id if invoice else None,
                    **_stamps(terms.start, invoice.issue if invoice else None),
                },
            )

    def _policies(self, contract: _Contract) -> None:
        """Yearly OC/AC (vehicles) or property (machines) policies from the contract's start."""
        terms, rng = contract.terms, self.rng
        if terms.category is ItemCategory.IT_EQUIPMENT:
            return
        kind = PolicyKind.OC_AC if terms.category is ItemCategory.VEHICLE else PolicyKind.PROPERTY
        via_lessor = rng.random() < INSURED_VIA_LESSOR_RATE
        insurer = rng.choice(_INSURERS)
        insured = round_money(terms.net_value * Decimal("1.23"))
        year = 0
        while (start := _add_years(terms.start, year)) <= min(self.today, contract.end):
            if rng.random() < 0.2:  # renewals sometimes go to another insurer
                insurer = rng.choice(_INSURERS)
            value = round_money(insured * (1 - Decimal("0.1") * year))  # the asset depreciates
            end = min(_add_years(terms.start, year + 1) - timedelta(days=1), contract.end)
            premium = round_money(value * rng.randint(25, 55) / 1000)
            number = self._policy(contract, kind, insurer, (start, end), value, premium)
            if via_lessor:
                self._issue(
                    contract,
                    InvoiceKind.INSURANCE,
                    issue=start,
                    due=start + timedelta(days=14),
                    net=premium,
                    description=f"Refaktura składki {_POLICY_NAMES[kind]} – polisa {number}, "
                    f"umowa {contract.number}",
                )
            year += 1
        if kind is PolicyKind.OC_AC and rng.random() < GAP_RATE:
            self._policy(
                contract,
                PolicyKind.GAP,
                rng.choice(_INSURERS),
                (terms.start, contract.end),
                insured,
                round_money(insured * rng.randint(10, 20) / 1000),
            )

    def _policy(
        self,
        contract: _Contract,
        kind: PolicyKind,
        insurer: tuple[str, str],
        period: tuple[date, date],
        sum_insured: Decimal,
        premium: Decimal,
    ) -> str:
        name, code = insurer
        number = f"{code}/{period[0].year}/{self.rng.randint(1_000_000, 9_999_999)}"
        contract.policies.append(number)
        self.rows.add(
            InsurancePolicy,
            {
                "client_id": self.client_id,
                "contract_id": contract.id,
                "kind": kind,
                "insurer": name,
                "policy_number": number,
                "start_date": period[0],
                "end_date": period[1],
                "sum_insured": sum_insured,
                "premium": premium,
                **_stamps(period[0]),
            },
        )
        return number

    # Invoices and settlements

    def _issue(
        self,
        contract: _Contract,
        kind: InvoiceKind,
        *,
        issue: date,
        due: date,
        net: Decimal,
        description: str,
        corrects: _Invoice | None = None,
    ) -> _Invoice:
        vat = round_money(net * VAT_RATE / 100)
        gross = net + vat
        number = f"FV/{issue:%Y/%m}/{self.world.counters.next('invoice-number'):06d}"
        invoice_id = self.rows.add(
            Invoice,
            {
                "client_id": self.client_id,
                "contract_id": contract.id,
                "number": number,
                "kind": kind,
                "ksef_number": make_ksef_number(self.rng, LESSOR_NIP, issue),
                "issue_date": issue,
                "sale_date": issue,
                "due_date": due,
                "currency": Currency.PLN,
                "vat_rate": VAT_RATE,
                "net": net,
                "vat": vat,
                "gross": gross,
                "split_payment": abs(gross) >= SPLIT_PAYMENT_FROM,
                "corrects_id": corrects.id if corrects else None,
                "description": description,
                **_stamps(issue),
            },
        )
        invoice = _Invoice(invoice_id, number, kind, contract, issue, due, gross, gross)
        self.issued.append((issue, gross))
        if corrects is None:
            self.invoices.append(invoice)
            self._maybe_correct(invoice, net)
        return invoice

    def _maybe_correct(self, invoice: _Invoice, net: Decimal) -> None:
        """Some invoices get a correction before they are due, so the client pays the
        corrected amount."""
        latest = min(invoice.due - timedelta(days=2), self.today)
        if self.rng.random() >= CORRECTION_RATE or latest <= invoice.issue:
            return
        issued = _day_between(self.rng, invoice.issue + timedelta(days=1), latest)
        cut = -round_money(net * self.rng.randint(5, 20) / 100)
        reason = self.rng.choice(_CORRECTION_REASONS)
        correction = self._issue(
            invoice.contract,
            InvoiceKind.CORRECTION,
            issue=issued,
            due=invoice.due,
            net=cut,
            description=f"Korekta faktury {invoice.number} – {reason}",
            corrects=invoice,
        )
        invoice.due_amount += correction.gross

    def _settle(self) -> None:
        forced = self._showcase_outcomes() if self.rich else {}
        in_arrears = self.rng.random() < ARREARS_CLIENT_RATE
        for invoice in self.invoices:
            outcome = forced.get(invoice.id) or self._outcome(invoice, in_arrears=in_arrears)
            self._apply(invoice, outcome)
        if self.rich or self.rng.random() < OVERPAYMENT_RATE:
            self._overpay()

    def _showcase_outcomes(self) -> dict[int, _Outcome]:
        """A demo client shows arrears, a late payment, and a partial one not yet due."""
        past = sorted(
            (i for i in self.invoices if i.kind is InvoiceKind.INSTALMENT and i.due < self.today),
            key=lambda i: i.due,
            reverse=True,
        )
        # The latest overdue instalment is unpaid, the one before paid in part.
        forced = dict(zip((i.id for i in past), (_Outcome.UNPAID, _Outcome.PARTIAL), strict=False))
        long_ago = [i for i in past[2:] if (self.today - i.due).days > 60]
        if long_ago:
            forced[long_ago[0].id] = _Outcome.LATE
        upcoming = [i for i in self.invoices if i.due >= self.today]
        if upcoming:
            forced[upcoming[0].id] = _Outcome.PARTIAL
        return forced

    def _outcome(self, invoice: _Invoice, *, in_arrears: bool) -> _Outcome:
        roll, overdue = self.rng.random(), (self.today - invoice.due).days
        if overdue <= 0:
            if roll < EARLY_RATE:
                return _Outcome.EARLY
            return _Outcome.PARTIAL if roll < EARLY_RATE + EARLY_PART_RATE else _Outcome.UNPAID
        # A terminated contract keeps its arrears: they may be why it was terminated.
        in_arrears = (
            in_arrears
            and overdue <= ARREARS_WINDOW.days
            and invoice.contract.status is not ContractStatus.ENDED
        )
        if in_arrears and roll < ARREARS_UNPAID_RATE:
            return _Outcome.UNPAID
        if in_arrears and roll < ARREARS_UNPAID_RATE + ARREARS_PART_RATE:
            return _Outcome.PARTIAL
        return _Outcome.LATE if roll > 1 - LATE_RATE and overdue > 45 else _Outcome.ON_TIME

    def _apply(self, invoice: _Invoice, outcome: _Outcome) -> None:
        if outcome is _Outcome.UNPAID:
            if (self.today - invoice.due).days > 30:
                self._interest_note(invoice, invoice.due_amount, self.today - timedelta(days=2))
            return
        booked = self._booking_day(invoice, outcome)
        share = self.rng.randint(50, 90) if outcome is _Outcome.PARTIAL else 100
        payment = self._pay(invoice, booked, round_money(invoice.due_amount * share / 100))
        if outcome is _Outcome.LATE:
            self._interest_note(invoice, payment["amount"], booked)
        elif outcome is not _Outcome.PARTIAL:
            self.paid_in_full.append((payment, invoice))

    def _booking_day(self, invoice: _Invoice, outcome: _Outcome) -> date:
        rng = self.rng
        if outcome is _Outcome.LATE:
            day = invoice.due + timedelta(days=rng.randint(8, 45))
        elif invoice.due >= self.today:  # paid before it is due
            day = _day_between(rng, invoice.issue, self.today)
        else:
            day = invoice.due + timedelta(days=rng.randint(-5, 5))
        return min(max(day, invoice.issue), self.today)

    def _pay(self, invoice: _Invoice, booked: date, amount: Decimal) -> Row:
        gateway = self.rng.random() < GATEWAY_RATE
        payment: Row = {
            "client_id": self.client_id,
            "booked_on": booked,
            "amount": amount,
            "currency": Currency.PLN,
            "title": f"Zapłata za fakturę {invoice.number}",
            "payer_iban": None if gateway else self.payer_iban,
            "source": PaymentSource.GATEWAY if gateway else PaymentSource.TRANSFER,
            **_stamps(booked),
        }
        payment_id = self.rows.add(Payment, payment)
        self.payments.append(payment)
        allocated = min(booked + timedelta(days=self.rng.randint(0, 1)), self.today)
        self.rows.add(
            PaymentAllocation,
            {
                "client_id": self.client_id,
                "payment_id": payment_id,
                "invoice_id": invoice.id,
                "amount": amount,
                "allocated_on": allocated,
                **_stamps(allocated),
            },
        )
        if gateway:
            self.rows.add(
                GatewayTransaction,
                {
                    "client_id": self.client_id,
                    "invoice_id": invoice.id,
                    "amount": amount,
                    "status": GatewayStatus.ACCEPTED,
                    "provider_reference": f"PAYU-{self.rng.getrandbits(40):010X}",
                    "started_by_id": self.main.id,
                    **_stamps(booked),
                },
            )
        return payment

    def _overpay(self) -> None:
        """A payment larger than what it settles: typically the corrected invoice paid in its
        original amount, otherwise a round sum paid twice."""
        if not self.paid_in_full:
            return
        corrected = [(p, i) for p, i in self.paid_in_full if i.due_amount != i.gross]
        if corrected:
            payment, invoice = corrected[-1]
            payment["amount"] += invoice.gross - invoice.due_amount
        else:
            payment, _ = self.paid_in_full[-1]
            payment["amount"] += to_money(self.rng.choice(_OVERPAYMENTS))

    # Documents

    def _document(
        self,
        kind: DocumentKind,
        issued: date,
        title: str,
        amount: Decimal | None,
        contract: _Contract | None = None,
        **details: Any,
    ) -> None:
        """`details`: the interest-note and balance columns of `Document` (None when not given)."""
        prefix = DOCUMENT_PREFIXES[kind]  # numbered per kind: NO/2026/000123
        number = f"{prefix}/{issued.year}/{self.world.counters.next(prefix):06d}"
        self.rows.add(
            Document,
            {
                "client_id": self.client_id,
                "contract_id": contract.id if contract else None,
                "kind": kind,
                "number": number,
                "title": title,
                "issue_date": issued,
                "amount": amount,
                "currency": Currency.PLN,
                **{column: details.get(column) for column in _DOCUMENT_DETAILS},
                **_stamps(issued),
            },
        )
        self.documents += 1

    def _interest_note(self, invoice: _Invoice, amount: Decimal, until: date) -> None:
        """Interest on `amount` from the due date until it was paid (or until now)."""
        first_day = invoice.due + timedelta(days=1)
        interest = late_interest(
            amount, annual_rate=LATE_INTEREST, first_day=first_day, last_day=until
        )
        if interest < MIN_INTEREST_NOTE:
            return
        issued = min(until + timedelta(days=self.rng.randint(3, 20)), self.today)
        self._document(
            DocumentKind.INTEREST_NOTE,
            issued,
            f"Nota odsetkowa – opóźnienie w zapłacie faktury {invoice.number}",
            interest,
            invoice.contract,
            invoice_id=invoice.id,
            basis_amount=amount,
            period_start=first_day,
            period_end=until,
            annual_rate=LATE_INTEREST,
        )

    def _documents(self) -> None:
        rng = self.rng
        self._balance_confirmations()
        if self.rich or rng.random() < COMPENSATION_RATE:
            issued = _day_between(rng, self._first_start(), self.today)
            self._document(
                DocumentKind.COMPENSATION,
                issued,
                "Kompensata wzajemnych należności",
                to_money(rng.randint(200, 8000)),
                rng.choice(self.contracts),
            )
        while rng.random() < OTHER_DOCUMENT_RATE or (self.rich and self.documents < RICH_DOCUMENTS):
            issued = _day_between(rng, self._first_start(), self.today)
            self._document(
                DocumentKind.OTHER,
                issued,
                rng.choice(_OTHER_DOCUMENTS),
                None,
                rng.choice((None, *self.contracts)),
            )

    def _balance_confirmations(self) -> None:
        """Each year-end's balance: invoiced minus paid (negative when overpaid)."""
        ledger = [*self.issued, *((p["booked_on"], -p["amount"]) for p in self.payments)]
        for year in range(self._first_start().year, self.today.year):
            issued = date(year + 1, 1, self.rng.randint(10, 25))
            if issued > self.today:
                break
            year_end = date(year, 12, 31)
            balance = sum((amount for day, amount in ledger if day <= year_end), Decimal(0))
            self._document(
                DocumentKind.BALANCE_CONFIRMATION,
                issued,
                f"Potwierdzenie salda na dzień 31.12.{year}",
                to_money(balance),
                period_end=year_end,
            )

    def _first_start(self) -> date:
        return min(c.terms.start for c in self.contracts)

    # Requests

    def _requests(self) -> None:
        if self.rich:
            for request_type, stage in _SHOWCASE_REQUESTS:
                self._request(request_type, self.contracts[0], stage)
            return
        for _ in range(self.rng.randint(0, 3)):
            request_type, contract = self._request_subject()
            self._request(request_type, contract, _pick(self.rng, _REQUEST_STAGE_WEIGHTS))

    def _request_subject(self) -> tuple[RequestType, _Contract | None]:
        """A request type and a running contract it fits (none for company-level types)."""
        while True:
            request_type = self.rng.choice(tuple(RequestType))
            if request_type in _CLIENT_LEVEL_REQUESTS:
                return request_type, None
            fitting = [
                c
                for c in self.contracts
                if c.active
                and (request_type is not RequestType.POLICY_DUPLICATE or c.policies)
                and (request_type is not RequestType.DRIVING_ABROAD_AUTHORISATION or c.vehicles)
            ]
            if fitting:
                return request_type, self.rng.choice(fitting)

    def _request(
        self,
        request_type: RequestType,
        contract: _Contract | None,
        stage: RequestStage,
    ) -> None:
        rng = self.rng
        details = self._details(request_type, contract)
        steps = self._stage_history(stage)
        author = rng.choice(self.authors)
        first_day = steps[0].day
        request_id = self.rows.add(
            Request,
            {
                "client_id": self.client_id,
                "contract_id": contract.id if contract else None,
                "number": f"WN/{first_day.year}/{self.world.counters.next('WN'):06d}",
                "type": request_type,
                "stage": steps[-1].kind.stage,
                "details": details,
                "contact_name": author.person.full,
                "contact_email": author.email,
                "contact_phone": author.phone,
                "created_by_id": author.id,
                "created_at": _at(first_day, 8),
                "updated_at": _at(steps[-1].day, 8 + len(steps)),
            },
        )
        for position, step in enumerate(steps):
            self._stage_entry(request_id, step, author, hour=8 + position + 1)

    def _stage_history(self, stage: RequestStage) -> list[_Step]:
        """SUBMITTED, then a path to `stage`, each step 0–3 days after the one before."""
        rng = self.rng
        path = rng.choice(_STAGE_PATHS[stage])
        final = stage in (RequestStage.COMPLETED, RequestStage.REJECTED)
        day = self.today - timedelta(days=rng.randint(3 * len(path), 200 if final else 20))
        steps = [_Step(_SUBMIT, day, rng.choice(_SUBMIT.comments))]
        for kind in path:
            day += timedelta(days=rng.randint(0, 3))
            steps.append(_Step(kind, day, rng.choice(kind.comments)))
        return steps

    def _stage_entry(self, request_id: int, step: _Step, author: _UserRef, hour: int) -> None:
        from_client = step.kind.from_client
        entry_id = self.rows.add(
            RequestStageEntry,
            {
                "client_id": self.client_id,
                "request_id": request_id,
                "stage": step.kind.stage,
                "comment": step.comment,
                "from_client": from_client,
                "author_id": author.id if from_client else self.world.demo.staff.id,
                "created_at": _at(step.day, hour),
                "updated_at": _at(step.day, hour),
            },
        )
        if step.kind is _REPLY:
            content = _pdf(f"Odpis z KRS - {self.name}")
            self._attach("odpis_KRS.pdf", "application/pdf", content, step.day, stage_id=entry_id)

    def _details(self, request_type: RequestType, contract: _Contract | None) -> Row:
        """The type's own fields (REQ-2 … REQ-5), as the portal form would file them."""
        rng, today = self.rng, self.today
        match request_type, contract:
            case RequestType.PAYMENT_DAY_CHANGE, _Contract(terms=terms):
                days = [d for d in (15, 20, 25) if d != terms.payment_day]
                return {
                    "paymentDay": rng.choice(days),
                    "currentPaymentDay": terms.payment_day,
                    "reason": rng.choice(_PAYMENT_DAY_REASONS),
                }
            case RequestType.CONTRACT_VALUE_CHANGE, _Contract(terms=terms):
                value = round_money(terms.net_value * rng.randint(105, 125) / 100)
                return {
                    "newNetValue": str(value),
                    "currency": "PLN",
                    "description": rng.choice(_EQUIPMENT_ADDITIONS),
                }
            case RequestType.SCHEDULE_CHANGE, _Contract(terms=terms):
                return {
                    "residualValuePercent": rng.randint(1, 30),
                    "periodMonths": terms.months + rng.choice((6, 12)),
                    "instalmentOption": rng.choice(("KEEP", "ADJUST_AUTOMATICALLY")),
                }
            case RequestType.SCHEDULE_CHANGE_OFFER, _Contract(terms=terms):
                return {
                    "reason": rng.choice(_SCHEDULE_OFFER_REASONS),
                    "preferredNetInstalment": str(round_money(terms.net_value / terms.months)),
                }
            case RequestType.EARLY_TERMINATION_OFFER, _:
                planned = today + timedelta(days=rng.randint(14, 90))
                return {
                    "plannedDate": planned.isoformat(),
                    "reason": rng.choice(_TERMINATION_REASONS),
                }
            case RequestType.POLICY_DUPLICATE, _Contract(policies=policies):
                return {
                    "policyNumber": policies[-1],
                    "deliveryMethod": rng.choice(("EMAIL", "POST")),
                }
            case RequestType.DRIVING_ABROAD_AUTHORISATION, _Contract(vehicles=vehicles):
                return self._abroad_details(rng.choice(vehicles))
            case RequestType.COOPERATION_OPINION, _:
                return {
                    "purpose": rng.choice(_OPINION_PURPOSES),
                    "addressee": rng.choice(_BANKS)[0],
                }
            case RequestType.REGISTERED_OFFICE_CHANGE, _:
                city = _city(rng)
                return {
                    "street": _street(rng),
                    "postalCode": _postal_code(rng, city),
                    "city": city.name,
                }
            case RequestType.CLIENT_DATA_CHANGE, _:
                return {"field": "phone", "newValue": _landline(rng, self.city)}
        raise ValueError(f"{request_type} needs a contract that fits it")

    def _abroad_details(self, vehicle: _LeasedVehicle) -> Row:
        leaves = self.today + timedelta(days=self.rng.randint(3, 30))
        countries = sorted(self.rng.sample(_COUNTRIES, self.rng.randint(1, 3)))
        return {
            "registrationNumber": vehicle.registration,
            "vin": vehicle.vin,
            "countries": countries,
            "dateFrom": leaves.isoformat(),
            "dateTo": (leaves + timedelta(days=self.rng.randint(3, 21))).isoformat(),
            "driverName": _person(self.rng).full,
        }

    # Message threads

    def _threads(self) -> None:
        rng = self.rng
        if self.rich:  # open, answered, closed (with an attachment)
            for length, age in ((1, rng.randint(2, 10)), (2, rng.randint(4, 10)), (4, 60)):
                self._thread(length, age)
            return
        for _ in range(rng.randint(0, 3)):
            age = min(2 + int(rng.expovariate(1 / 45)), 365)  # most threads are recent
            # Customer service answers within two weeks: only recent questions are still open.
            self._thread(rng.randint(1, 4) if age <= 14 else rng.choice((2, 4)), age)

    def _thread(self, length: int, age: int) -> None:
        """Client and staff take turns from `age` days ago; an odd count leaves the client's
        question open; an answer older than two weeks closes the thread."""
        rng = self.rng
        topic = rng.choice(_THREAD_TOPICS)
        contract = rng.choice(self.contracts) if "{contract}" in topic.question else None
        number = contract.number if contract else ""
        texts = (
            topic.question.format(contract=number),
            topic.answer.format(einvoice=self.einvoice_email),
            _FOLLOW_UP,
            _CLOSING,
        )[:length]
        days = [self.today - timedelta(days=age)]
        for _ in texts[1:]:
            days.append(min(days[-1] + timedelta(days=rng.randint(1, 3)), self.today))
        author = rng.choice(self.authors)
        answered = length % 2 == 0
        if not answered:
            status = ThreadStatus.OPEN
        elif (self.today - days[-1]).days <= 14:
            status = ThreadStatus.ANSWERED
        else:
            status = ThreadStatus.CLOSED
        thread_id = self.rows.add(
            MessageThread,
            {
                "client_id": self.client_id,
                "contract_id": contract.id if contract else None,
                "subject": topic.subject,
                "category": topic.category,
                "status": status,
                "final_answer": texts[-1] if answered else None,
                "created_by_id": author.id,
                **_stamps(days[0], days[-1]),
            },
        )
        for position, (text, day) in enumerate(zip(texts, days, strict=True)):
            self._message(thread_id, text, day, author if position % 2 == 0 else None)

    def _message(self, thread_id: int, body: str, day: date, author: _UserRef | None) -> None:
        """A message from `author`, or from customer service when there is none."""
        staff = self.world.demo.staff
        message_id = self.rows.add(
            Message,
            {
                "client_id": self.client_id,
                "thread_id": thread_id,
                "from_staff": author is None,
                "author_id": (author or staff).id,
                "body": body,
                **_stamps(day),
            },
        )
        if body == _CLOSING:  # it promises the statement of payments
            self._attach(
                "zestawienie_wplat.csv",
                "text/csv",
                self._payments_csv(day),
                day,
                message_id=message_id,
            )

    def _payments_csv(self, until: date) -> bytes:
        lines = [
            f"{p['booked_on']:%d.%m.%Y};{str(p['amount']).replace('.', ',')};{p['title']}"
            for p in self.payments
            if p["booked_on"] <= until
        ]
        return "\n".join(["Data księgowania;Kwota;Tytuł", *lines[-10:], ""]).encode()

    def _attach(
        self,
        filename: str,
        content_type: str,
        content: bytes,
        day: date,
        *,
        stage_id: int | None = None,
        message_id: int | None = None,
    ) -> None:
        self.rows.add(
            Attachment,
            {
                "client_id": self.client_id,
                "request_stage_id": stage_id,
                "message_id": message_id,
                "filename": filename,
                "content_type": content_type,
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "content": content,
                **_stamps(day),
            },
        )

    # Fleet and tyres

    def _fleet(self) -> None:
        swaps = _tyre_swaps(self.today)
        for contract in self.contracts:
            for vehicle in contract.vehicles:
                self._vehicle(contract, vehicle, swaps)

    def _vehicle(
        self,
        contract: _Contract,
        leased: _LeasedVehicle,
        swaps: list[tuple[date, TyreSeason]],
    ) -> None:
        """The fleet vehicle; on a running contract mostly with its other set of tyres stored."""
        rng, terms = self.rng, contract.terms
        vehicle_id = self.rows.add(
            Vehicle,
            {
                "client_id": self.client_id,
                "contract_id": contract.id,
                "registration_number": leased.registration,
                "vin": leased.vin,
                "make": leased.model.make,
                "model": leased.model.model,
                "driver_name": _person(rng).full,
                **_stamps(terms.start),
            },
        )
        if not contract.active or (rng.random() >= DEPOSIT_RATE and not terms.showcase):
            return
        centre_id = self.world.centres.pick(rng, self.city)
        self._deposits(vehicle_id, leased, centre_id, terms.start, swaps)
        # Client #1 shows a relocation on its first vehicle with stored tyres.
        if rng.random() < RELOCATION_RATE or (self.index == 1 and not self.relocations):
            self._relocation(vehicle_id, centre_id)

    def _deposits(
        self,
        vehicle_id: int,
        leased: _LeasedVehicle,
        centre_id: int,
        since: date,
        swaps: list[tuple[date, TyreSeason]],
    ) -> None:
        """One set per seasonal change since the car came: each visit stores the set coming off
        and releases the one going on, so only the latest set is still stored."""
        released = None
        for swap, season in swaps:
            visit = min(swap + timedelta(days=self.rng.randint(0, 25)), self.today)
            if visit < since:
                break
            self.rows.add(
                TyreDeposit,
                {
                    "client_id": self.client_id,
                    "vehicle_id": vehicle_id,
                    "centre_id": centre_id,
                    "season": season,
                    "tyre_size": leased.model.tyre_size,
                    "tyre_count": 4,
                    "stored_since": visit,
                    "released_on": released,
                    **_stamps(visit, released),
                },
            )
            released = visit

    def _relocation(self, vehicle_id: int, from_centre: int) -> None:
        rng = self.rng
        status = rng.choice(
            (
                RelocationStatus.ORDERED,
                RelocationStatus.ORDERED,
                RelocationStatus.CONFIRMED,
                RelocationStatus.CANCELLED,
            )
        )
        if status is RelocationStatus.CANCELLED:
            planned = self.today - timedelta(days=rng.randint(5, 60))
        else:  # a relocation takes at least four working days
            planned = self.today + timedelta(days=rng.randint(7, 30))
        ordered = min(planned, self.today) - timedelta(days=rng.randint(1, 7))
        self.relocations += 1
        self.rows.add(
            TyreRelocation,
            {
                "client_id": self.client_id,
                "vehicle_id": vehicle_id,
                "from_centre_id": from_centre,
                "to_centre_id": self.world.centres.pick(rng, self.city, avoid=from_centre),
                "planned_date": planned,
                "status": status,
                "created_by_id": self.main.id,
                **_stamps(ordered),
            },
        )


# --- Loading --------------------------------------------------------------------------------------


async def load_demo(
    engine: AsyncEngine,
    spec: DemoSpec | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Fill an empty, migrated database. progress(done_clients, total_clients) after each batch.
    Returns row counts per table name.

    Each batch commits on its own: a failure keeps the batches before it, so start again from an
    empty database. `spec` defaults to `DemoSpec()` built at call time (today is today).
    """
    spec = spec or DemoSpec()
    await _refuse_non_empty(engine)
    # Hashing and generating run in a worker thread so the event loop stays responsive; one
    # step at a time, as generating next to storing only makes both fight over the GIL.
    world = await asyncio.to_thread(_DemoWorld, spec)
    plans = _InsertPlans(engine.dialect)
    counts: Counter[str] = Counter()
    # At least one batch, so the demo users and centres are stored even without clients.
    for first in range(1, max(spec.clients, 1) + 1, spec.batch_clients):
        last = min(first + spec.batch_clients - 1, spec.clients)
        rows = await asyncio.to_thread(world.batch, first, last)
        async with _bulk_transaction(engine) as conn:
            counts.update(await plans.insert(conn, rows))
        if progress is not None:
            progress(last, spec.clients)
    if engine.dialect.name == "postgresql":
        await _reset_sequences(engine)
    return {table.name: counts[table.name] for table in SQLModel.metadata.sorted_tables}


@asynccontextmanager
async def _bulk_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One batch's transaction. On SQLite the page cache is enlarged while it runs: the batch
    inserts random keys (KSeF numbers, dates) into big indexes, and with the default 2 MB cache
    SQLite spends a quarter of the load re-reading their pages."""
    async with engine.begin() as conn:
        if conn.dialect.name != "sqlite":
            yield conn
            return
        previous = int((await conn.exec_driver_sql("PRAGMA cache_size")).scalar_one())
        await conn.exec_driver_sql(f"PRAGMA cache_size = {SQLITE_LOAD_CACHE}")
        try:
            yield conn
        finally:
            await conn.exec_driver_sql(f"PRAGMA cache_size = {previous}")


async def _refuse_non_empty(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        found = await conn.execute(sa.select(Client.id).limit(1))
        if found.first() is not None:
            raise DemoDataExists("the database already has clients; demo data needs an empty one")


@dataclass(frozen=True, slots=True)
class _PositionalInsert:
    """A table's INSERT in the driver's own positional form, with its columns' converters."""

    sql: str
    pick: Callable[[Row], tuple[Any, ...]]  # a row's values in the statement's order
    converters: tuple[tuple[int, Converter], ...]  # (position, converter) where one is needed

    def values(self, rows: list[Row]) -> list[tuple[Any, ...]]:
        converted = []
        for row in rows:
            values = list(self.pick(row))
            for position, convert in self.converters:
                values[position] = convert(values[position])
            converted.append(tuple(values))
        return converted


class _InsertPlans:
    """Bulk INSERTs in foreign-key order, handing the driver ready-made tuples.

    `conn.execute(insert(table), rows)` converts every value of every row on its own; the demo
    repeats the same dates, timestamps and enum members hundreds of thousands of times, so
    converting each distinct one once (with the column types' own bind processors) cuts the
    time spent storing by about a third. Columns the rows leave out are left out of the INSERT
    (NULL or the server default); drivers with named parameters, and columns whose Python-side
    default SQLAlchemy would compute, take the plain path.
    """

    _REPEATED = (sa.Date, sa.DateTime, sa.Enum)  # value kinds worth converting once

    def __init__(self, dialect: sa.Dialect) -> None:
        self._dialect = dialect
        self._plans: dict[tuple[str, ...], _PositionalInsert | None] = {}

    async def insert(self, conn: AsyncConnection, rows: Batch) -> Counter[str]:
        counts: Counter[str] = Counter()
        for table in SQLModel.metadata.sorted_tables:  # parents (and corrected invoices) first
            table_rows = rows.get(table.name, [])
            for start in range(0, len(table_rows), INSERT_CHUNK):
                await self._execute(conn, table, table_rows[start : start + INSERT_CHUNK])
            counts[table.name] = len(table_rows)
        return counts

    async def _execute(self, conn: AsyncConnection, table: sa.Table, rows: list[Row]) -> None:
        given = (table.name, *rows[0])  # every row of a table carries the same keys
        if given not in self._plans:
            self._plans[given] = self._plan(table, given[1:])
        plan = self._plans[given]
        if plan is None:
            await conn.execute(sa.insert(table), rows)
        else:
            await conn.exec_driver_sql(plan.sql, plan.values(rows))

    def _plan(self, table: sa.Table, given: Sequence[str]) -> _PositionalInsert | None:
        compiled = sa.insert(table).compile(dialect=self._dialect, column_keys=list(given))
        keys = compiled.positiontup
        if not compiled.positional or not keys or not set(keys) <= set(given):
            return None
        converters = []
        for position, key in enumerate(keys):
            column_type = table.c[key].type
            # The dialect's own type: SQLite stores timestamps in SQLAlchemy's text format, and
            # keyset cursors compare them as text, so the demo must write exactly that format.
            convert = column_type.dialect_impl(self._dialect).bind_processor(self._dialect)
            if convert is None:
                continue
            if isinstance(getattr(column_type, "impl_instance", column_type), self._REPEATED):
                convert = cache(convert)  # bounded: dates span five years, enums are few
            converters.append((position, convert))
        return _PositionalInsert(str(compiled), itemgetter(*keys), tuple(converters))


async def _reset_sequences(engine: AsyncEngine) -> None:
    """Ids were given explicitly, so PostgreSQL's sequences still stand at 1: move them past."""
    async with engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if "id" not in table.c:
                continue
            last_id = sa.select(sa.func.max(table.c.id)).scalar_subquery()
            sequence = sa.func.pg_get_serial_sequence(table.name, "id")
            # setval(seq, 1, false) on an empty table: its next id is 1 rather than 2.
            await conn.execute(
                sa.select(
                    sa.func.setval(sequence, sa.func.coalesce(last_id, 1), last_id.is_not(None))
                )
            )
