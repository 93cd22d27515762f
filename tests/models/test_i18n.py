"""The Polish catalogue matches the code: every `_("…")` has a Polish text, nothing is stale.

The message ids are extracted from the source here, in-process, the way `make messages` does
it: a message added without its translation fails the suite instead of reaching a portal
in English.
"""

from __future__ import annotations

import string
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from models.i18n import DEFAULT_LANGUAGE, Language, Msg, _, catalogue_path, negotiate, translate

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("auth", "exports", "hub", "intake", "loaders", "models", "resolvers", "schema")


def extracted() -> dict[str, str]:
    """Every message id of the production code, with where it was found first."""
    found: dict[str, str] = {}
    for package in PRODUCTION:
        for filename, line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords={"_": None}
        ):
            assert isinstance(message, str), (package, filename, line, message)
            found.setdefault(message, f"{package}/{filename}:{line}")
    return found


def polish_entries() -> dict[str, tuple[str, bool]]:
    with catalogue_path(Language.PL).open("rb") as file:
        catalog = read_po(file, locale="pl")
    return {m.id: (m.string, m.fuzzy) for m in catalog if isinstance(m.id, str) and m.id}


def fields(text: str) -> set[str]:
    return {name for _text, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_every_message_has_a_polish_text_and_none_is_stale() -> None:
    code, po = extracted(), polish_entries()
    assert len(code) > 100  # the extraction really ran over the packages
    untranslated = {m: where for m, where in code.items() if not po.get(m, ("", False))[0]}
    fuzzy = sorted(m for m, (_text, is_fuzzy) in po.items() if is_fuzzy)
    stale = sorted(po.keys() - code.keys())
    hint = "run `make messages` and translate models/locales/pl/LC_MESSAGES/leasehub.po"
    assert not untranslated, f"{hint}: {untranslated}"
    assert not fuzzy, f"{hint}: fuzzy {fuzzy}"
    assert not stale, f"{hint}: stale {stale}"


def test_translations_keep_every_placeholder() -> None:
    """A Polish text with a placeholder missing would drop a code, link or number; a new one
    would raise at run time."""
    broken = {
        msgid: text
        for msgid, (text, _fuzzy) in polish_entries().items()
        if fields(text) != fields(msgid)
    }
    assert not broken


def test_translate_fills_parameters_in_either_language() -> None:
    message = _("This needs the {scope} permission.", scope="invoices:read")
    assert str(message) == translate(message, Language.EN)
    assert str(message) == "This needs the invoices:read permission."
    assert translate(message, Language.PL) == "Do tego potrzebne jest uprawnienie invoices:read."
    # A plain string is looked up as a message id; anything else stays as it is.
    assert translate("Not found.", Language.PL) == "Nie znaleziono."
    assert translate("Faktura FV/2026/11/000001", Language.PL) == "Faktura FV/2026/11/000001"


def test_numbers_and_dates_go_in_untouched() -> None:
    limit = _("Must be less than {limit:,} in absolute value.", limit=Decimal(10) ** 12)
    assert str(limit) == "Must be less than 1,000,000,000,000 in absolute value."
    # No English thousands commas in Polish, where the comma is the decimal separator.
    assert translate(limit, Language.PL).endswith("niż 1000000000000.")
    sms = _("LeaseHub: your activation code is {code}. Valid until midnight.", code="012345")
    assert "012345" in translate(sms, Language.PL) and "012345" in str(sms)


def test_messages_are_values() -> None:
    assert _("Not found.") == Msg("Not found.")
    assert hash(_("Not found.")) == hash(Msg("Not found."))


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, Language.PL),
        ("", Language.PL),
        ("en", Language.EN),
        ("EN-gb", Language.EN),
        ("en-US,en;q=0.9", Language.EN),
        ("pl,en;q=0.8", Language.PL),
        ("pl-PL, en", Language.PL),
        ("en, pl", Language.EN),
        ("de", Language.PL),
        ("de, en;q=0.5", Language.EN),
        ("en;q=0.5, *;q=0.8", Language.PL),
        ("en;q=0", Language.PL),
        ("en;q=oops", Language.PL),
        ("*", Language.PL),
    ],
)
def test_accept_language_is_negotiated(header: str | None, language: Language) -> None:
    assert negotiate(header) is language


def test_polish_is_the_default() -> None:
    assert DEFAULT_LANGUAGE is Language.PL
