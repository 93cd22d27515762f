"""Password rules (AUTH-5): the seed's rules by default, each one a setting.

A failed rule is reported by its own stable code, so a UI can tick off the rules as they pass.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from models.i18n import Msg, _

# Legal forms are not personal data: "Transbud sp. z o.o." must not forbid the letters "sp".
_LEGAL_FORMS = re.compile(
    r"\b(sp\.?\s*z\s*o\.?\s*o\.?|spółka\s+z\s+ograniczoną\s+odpowiedzialnością|s\.?\s*a\.?|"
    r"sp\.?\s*j\.?|sp\.?\s*k\.?|sp\.?\s*p\.?|spółka\s+\w+)\b",
    re.IGNORECASE,
)
MIN_PERSONAL_PART = 3  # shorter fragments ("Li", "AB") would forbid half the alphabet


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    min_length: int = 8
    max_length: int = 24
    require_uppercase: bool = True
    require_digit: bool = True
    require_special: bool = True
    forbid_personal_data: bool = True


@dataclass(frozen=True, slots=True)
class Violation:
    code: str
    message: Msg


@dataclass(frozen=True, slots=True)
class PersonalData:
    login: str
    # Every other form of the login: the e-mail and the number of each company the person is
    # the main account of; the one typed in this flow is only one of them.
    other_logins: tuple[str, ...] = ()
    first_name: str = ""
    last_name: str = ""
    company_names: tuple[str, ...] = ()


def _fold(text: str) -> str:
    """Case- and accent-insensitive form: "Łukasz" and "lukasz" are the same name here."""
    text = text.casefold().replace("ł", "l")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _personal_parts(person: PersonalData) -> Iterable[str]:
    for login in (person.login.strip(), *(other.strip() for other in person.other_logins)):
        yield login
        if "@" in login:
            yield login.split("@", 1)[0]
    yield person.first_name
    yield person.last_name
    for company in person.company_names:
        yield company
        yield _LEGAL_FORMS.sub(" ", company)


def check_password(password: str, policy: PasswordPolicy, person: PersonalData) -> list[Violation]:
    violations: list[Violation] = []
    if len(password) < policy.min_length:
        message = _("Use at least {count} characters.", count=policy.min_length)
        violations.append(Violation("PASSWORD_TOO_SHORT", message))
    if len(password) > policy.max_length:
        message = _("Use at most {count} characters.", count=policy.max_length)
        violations.append(Violation("PASSWORD_TOO_LONG", message))
    if policy.require_uppercase and not any(c.isupper() for c in password):
        violations.append(Violation("PASSWORD_NO_UPPERCASE", _("Add an upper-case letter.")))
    if policy.require_digit and not any(c.isdigit() for c in password):
        violations.append(Violation("PASSWORD_NO_DIGIT", _("Add a digit.")))
    if policy.require_special and all(c.isalnum() for c in password):
        violations.append(Violation("PASSWORD_NO_SPECIAL", _("Add a special character.")))
    if policy.forbid_personal_data and _contains_personal_data(password, person):
        message = _("Do not use your login, company name, first name or last name.")
        violations.append(Violation("PASSWORD_CONTAINS_PERSONAL_DATA", message))
    return violations


def _contains_personal_data(password: str, person: PersonalData) -> bool:
    folded = _fold(password)
    for part in _personal_parts(person):
        for word in [part, *part.split()]:
            candidate = _fold(word.strip(" .,-"))
            if len(candidate) >= MIN_PERSONAL_PART and candidate in folded:
                return True
    return False
