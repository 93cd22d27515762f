"""The catalogue of request types a client may file (REQ-1): name and description of each."""

from __future__ import annotations

from models.i18n import Msg, _
from models.request import RequestType

REQUEST_TYPES: dict[RequestType, tuple[Msg, Msg]] = {
    RequestType.PAYMENT_DAY_CHANGE: (
        _("Change of the instalment due day"),
        _("Move the instalment due day to the 15th, 20th or 25th."),
    ),
    RequestType.CONTRACT_VALUE_CHANGE: (
        _("Change of the contract value / additional equipment"),
        _("New purchase price or additional equipment."),
    ),
    RequestType.SCHEDULE_CHANGE: (
        _("Change of the schedule"),
        _("New residual value, period or instalment amounts."),
    ),
    RequestType.COOPERATION_OPINION: (
        _("Opinion on the cooperation"),
        _("A letter on the cooperation."),
    ),
    RequestType.EARLY_TERMINATION_OFFER: (
        _("Offer of early termination of the contract"),
        _("An offer to end the contract early."),
    ),
    RequestType.POLICY_DUPLICATE: (
        _("Duplicate of the policy"),
        _("A duplicate of an insurance policy."),
    ),
    RequestType.DRIVING_ABROAD_AUTHORISATION: (
        _("Authorisation to drive abroad"),
        _("Authorisation to drive the vehicle abroad."),
    ),
    RequestType.SCHEDULE_CHANGE_OFFER: (
        _("Offer of a schedule change"),
        _("An offer of a changed repayment schedule."),
    ),
    RequestType.REGISTERED_OFFICE_CHANGE: (
        _("Change of the lessee's registered office"),
        _("The lessee's registered office has changed."),
    ),
    RequestType.CLIENT_DATA_CHANGE: (
        _("Change of client data"),
        _("Change of the company's master data."),
    ),
}
