"""Password rules at each rule's boundary."""

from __future__ import annotations

import pytest

from auth.policy import PasswordPolicy, PersonalData, check_password

POLICY = PasswordPolicy()
ANNA = PersonalData(
    login="anna.kowalska@demo.leasehub.pl",
    first_name="Anna",
    last_name="Kowalska",
    company_names=("Transbud Łukasiewicz sp. z o.o.",),
)


def codes(password: str, person: PersonalData = ANNA) -> set[str]:
    return {v.code for v in check_password(password, POLICY, person)}


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Zx7!qwe", {"PASSWORD_TOO_SHORT"}),  # 7 characters
        ("Zx7!qwer", set()),  # 8: the lower bound holds
        ("Zx7!" + "q" * 20, set()),  # 24: the upper bound holds
        ("Zx7!" + "q" * 21, {"PASSWORD_TOO_LONG"}),  # 25
        ("zx7!qwer", {"PASSWORD_NO_UPPERCASE"}),
        ("Zxy!qwer", {"PASSWORD_NO_DIGIT"}),
        ("Zx7aqwer", {"PASSWORD_NO_SPECIAL"}),
        (
            "zx",
            {
                "PASSWORD_TOO_SHORT",
                "PASSWORD_NO_UPPERCASE",
                "PASSWORD_NO_DIGIT",
                "PASSWORD_NO_SPECIAL",
            },
        ),
    ],
)
def test_each_rule_at_its_boundary(password: str, expected: set[str]) -> None:
    assert codes(password) == expected


@pytest.mark.parametrize(
    "password",
    [
        "ANNA!2026x",
        "xKOWALSKA1!",
        "Anna.Kowalska@demo.leasehub.pl1!",
        "Transbud#2026",
        "lukasiewicz!A1",
        "ŁUKASIEWICZ!a1",
    ],
)
def test_personal_data_in_any_case_is_refused(password: str) -> None:
    assert "PASSWORD_CONTAINS_PERSONAL_DATA" in codes(password)


def test_legal_form_and_short_fragments_are_not_personal_data() -> None:
    assert codes("Spzoo!2026x") == set()
    person = PersonalData(login="li@x.pl", first_name="Bo", last_name="Li")
    assert codes("Bolid!2026", person) == set()


def test_rules_are_settings() -> None:
    relaxed = PasswordPolicy(min_length=4, require_special=False, forbid_personal_data=False)
    assert check_password("Anna1", relaxed, ANNA) == []
