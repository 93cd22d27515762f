"""Polish people, places, companies and banks, and how the demo draws one: names and surnames in
both genders, cities with their postal codes, area codes and number plates, streets, phone
numbers, company names and the banks whose sort codes IBANs carry."""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class City:
    name: str
    postal: tuple[int, int]  # first and last postal code, as numbers (00-001 is 1)
    latitude: float
    longitude: float
    area_code: str
    plates: tuple[str, ...]
    weight: int  # share of clients and of tyre centres, roughly by size


CITIES = (
    City("Warszawa", (1, 4999), 52.2297, 21.0122, "22", ("WA", "WI", "WX", "WY"), 18),
    City("Kraków", (30001, 31999), 50.0647, 19.9450, "12", ("KR",), 8),
    City("Łódź", (90001, 94999), 51.7592, 19.4560, "42", ("EL",), 6),
    City("Wrocław", (50001, 54999), 51.1079, 17.0385, "71", ("DW",), 7),
    City("Poznań", (60001, 61999), 52.4064, 16.9252, "61", ("PO",), 6),
    City("Gdańsk", (80001, 80999), 54.3520, 18.6466, "58", ("GD",), 5),
    City("Szczecin", (70001, 71999), 53.4285, 14.5528, "91", ("ZS",), 4),
    City("Bydgoszcz", (85001, 85999), 53.1235, 18.0084, "52", ("CB",), 3),
    City("Lublin", (20001, 20999), 51.2465, 22.5684, "81", ("LU",), 3),
    City("Białystok", (15001, 15999), 53.1325, 23.1688, "85", ("BI",), 3),
    City("Katowice", (40001, 40999), 50.2649, 19.0238, "32", ("SK",), 5),
    City("Gdynia", (81001, 81999), 54.5189, 18.5305, "58", ("GA",), 2),
    City("Częstochowa", (42200, 42299), 50.8118, 19.1203, "34", ("SC",), 2),
    City("Radom", (26600, 26699), 51.4027, 21.1471, "48", ("WR",), 2),
    City("Toruń", (87100, 87199), 53.0138, 18.5984, "56", ("CT",), 2),
    City("Kielce", (25001, 25999), 50.8661, 20.6286, "41", ("TK",), 2),
    City("Rzeszów", (35001, 35999), 50.0412, 21.9991, "17", ("RZ",), 2),
    City("Olsztyn", (10001, 10999), 53.7784, 20.4801, "89", ("NO",), 2),
    City("Opole", (45001, 45999), 50.6751, 17.9213, "77", ("OP",), 2),
    City("Zielona Góra", (65001, 65999), 51.9356, 15.5062, "68", ("FZ",), 1),
    City("Bielsko-Biała", (43300, 43399), 49.8224, 19.0584, "33", ("SB",), 2),
    City("Płock", (9400, 9499), 52.5463, 19.7065, "24", ("WP",), 1),
)
CITY_WEIGHTS = tuple(city.weight for city in CITIES)
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
BANKS = (
    ("Bank Pekao", "1240602"), ("mBank", "1140200"), ("PKO Bank Polski", "1020105"),
    ("ING Bank Śląski", "1050144"), ("Santander Bank Polska", "1090101"),
    ("Bank Millennium", "1160220"), ("Alior Bank", "2490001"),
    ("BNP Paribas Bank Polska", "1600128"), ("Credit Agricole Bank Polska", "1940101"),
    ("Citi Handlowy", "1030150"),
)  # fmt: skip
LESSOR_BANKS = BANKS[:4]
# Tyre service centres are named "<brand> <city>".
CENTRE_BRANDS = (
    "Opon-Max", "Koło-Serwis", "Gumtech", "Auto-Opony", "Centrum Oponiarskie", "Bieżnik",
    "Wulkanizacja Felga", "Oponiarz", "Ogumienie Plus", "Opony i Felgi 24",
)  # fmt: skip


def ascii_fold(text: str) -> str:
    """Polish letters folded to ASCII (ł has no decomposition, so it is mapped by hand)."""
    folded = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return folded.encode("ascii", "ignore").decode()


def slugify(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", ascii_fold(text).lower()))


@dataclass(frozen=True, slots=True)
class Person:
    first: str
    last: str

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


def person(rng: random.Random) -> Person:
    female = rng.random() < 0.45
    surname = rng.choice(_SURNAMES)[female]
    return Person(rng.choice(_FEMALE_NAMES if female else _MALE_NAMES), surname)


def mobile(rng: random.Random) -> str:
    prefix = rng.choice(_MOBILE_PREFIXES)
    return f"+48 {prefix}{rng.randint(0, 9)} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}"


def landline(rng: random.Random, city: City) -> str:
    number = f"{rng.randint(200, 899)} {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"
    return f"+48 {city.area_code} {number}"


def street(rng: random.Random) -> str:
    number = str(rng.randint(1, 180))
    if rng.random() < 0.3:
        number += f"/{rng.randint(1, 40)}"
    return f"{rng.choice(_STREETS)} {number}"


def postal_code(rng: random.Random, city: City) -> str:
    code = rng.randint(*city.postal)
    code += code % 1000 == 0  # no code ends in 000
    return f"{code // 1000:02d}-{code % 1000:03d}"


def pick_city(rng: random.Random) -> City:
    return rng.choices(CITIES, CITY_WEIGHTS)[0]


def company_name(rng: random.Random, owner: Person) -> tuple[str, str]:
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
