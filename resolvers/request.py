"""The catalogue of request types a client may file (REQ-1)."""

from __future__ import annotations

from models.request import RequestType

REQUEST_TYPES: dict[RequestType, tuple[str, str]] = {
    RequestType.PAYMENT_DAY_CHANGE: (
        "Zmiana daty płatności raty",
        "Move the instalment due day to the 15th, 20th or 25th.",
    ),
    RequestType.CONTRACT_VALUE_CHANGE: (
        "Zmiana wartości umowy / doposażenie",
        "New purchase price or additional equipment.",
    ),
    RequestType.SCHEDULE_CHANGE: (
        "Zmiana harmonogramu",
        "New residual value, period or instalment amounts.",
    ),
    RequestType.COOPERATION_OPINION: ("Opinia o współpracy", "A letter on the cooperation."),
    RequestType.EARLY_TERMINATION_OFFER: (
        "Oferta przedterminowego zakończenia umowy",
        "An offer to end the contract early.",
    ),
    RequestType.POLICY_DUPLICATE: ("Duplikat polisy", "A duplicate of an insurance policy."),
    RequestType.DRIVING_ABROAD_AUTHORISATION: (
        "Upoważnienie do wyjazdu za granicę",
        "Authorisation to drive the vehicle abroad.",
    ),
    RequestType.SCHEDULE_CHANGE_OFFER: (
        "Oferta zmiany harmonogramu",
        "An offer of a changed repayment schedule.",
    ),
    RequestType.REGISTERED_OFFICE_CHANGE: (
        "Zmiana siedziby Korzystającego",
        "The lessee's registered office has changed.",
    ),
    RequestType.CLIENT_DATA_CHANGE: (
        "Zmiana danych klienta",
        "Change of the company's master data.",
    ),
}
