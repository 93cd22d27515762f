"""Messages in the reader's language: Polish by default, English for `Accept-Language: en`.

A message id is the English text, written in the code as `_("Sign in to see this.")` or
`_("This needs the {scope} permission.", scope=...)`. `_` only records the text and its
parameters: many messages are module constants, and the language belongs to the request, so
the text is chosen when the answer is written (`translate`). The Polish catalogue is the .po
file under models/locales, read once at import (`make messages` keeps it in step with the
code; a test fails on a message without a Polish text). Codes, links and numbers go in as
parameters and come out untouched.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

DOMAIN = "leasehub"
LOCALES = Path(__file__).with_name("locales")


class Language(enum.StrEnum):
    PL = "pl"
    EN = "en"


DEFAULT_LANGUAGE = Language.PL
SOURCE_LANGUAGE = Language.EN  # the language of the message ids: needs no catalogue


@dataclass(frozen=True, slots=True)
class Msg:
    """A message not yet in any language; `str()` gives the English text."""

    text: str
    params: tuple[tuple[str, object], ...] = ()

    def __str__(self) -> str:
        return translate(self, SOURCE_LANGUAGE)


def _(text: str, /, **params: object) -> Msg:
    """The marker `make messages` extracts: `text` must be a literal, never an f-string."""
    return Msg(text, tuple(params.items()))


def catalogue_path(language: Language) -> Path:
    return LOCALES / language.value / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(language: Language) -> dict[str, str]:
    """msgid → translation; an empty or fuzzy entry counts as missing (English shows)."""
    with catalogue_path(language).open("rb") as file:
        catalog = read_po(file, locale=language.value, domain=DOMAIN)
    return {
        entry.id: entry.string
        for entry in catalog
        # Plural entries (tuples) are not used: each message names its numbers with a noun
        # that does not inflect ("limit znaków: 20"), see the catalogue.
        if isinstance(entry.id, str) and isinstance(entry.string, str)
        if entry.id and entry.string and not entry.fuzzy
    }


_CATALOGUES: Mapping[Language, Mapping[str, str]] = {
    Language.PL: read_catalogue(Language.PL),
    SOURCE_LANGUAGE: {},
}


def translate(message: str | Msg, language: Language) -> str:
    """The message in `language`; a plain string is looked up as a message id too (a text
    that went through a str-only layer), and anything not in the catalogue stays as it is."""
    text, params = (message.text, message.params) if isinstance(message, Msg) else (message, ())
    text = _CATALOGUES[language].get(text, text)
    if not params:
        return text
    values = {k: translate(v, language) if isinstance(v, Msg) else v for k, v in params}
    return text.format(**values)


@lru_cache(maxsize=256)  # browsers send a handful of distinct headers; each request asks
def negotiate(accept_language: str | None) -> Language:
    """The language of an Accept-Language header: English when the reader ranks it above
    Polish (q-values respected, ties to the earlier range), Polish for anything else."""
    best, best_rank = DEFAULT_LANGUAGE, (0.0, 0)
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _sep, parameters = part.partition(";")
        language = _supported(tag.strip().lower())
        weight = _weight(parameters)
        rank = (weight, -position)
        if language is not None and weight > 0 and rank > best_rank:
            best, best_rank = language, rank
    return best


def _supported(tag: str) -> Language | None:
    """`en`, `en-GB` → EN; `pl`, `pl-PL` and `*` → PL; any other language → None."""
    if tag == "*":
        return DEFAULT_LANGUAGE
    primary = tag.split("-", 1)[0]
    return next((language for language in Language if language.value == primary), None)


def _weight(parameters: str) -> float:
    """The q of a range (1 when absent); a malformed one makes the range count for nothing."""
    for parameter in parameters.split(";"):
        key, _sep, value = parameter.partition("=")
        if key.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                return 0.0
            return weight if 0 <= weight <= 1 else 0.0
    return 1.0
