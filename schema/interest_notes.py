"""Staff `interestNotesIssue`: the monthly interest-note job, as `leasehub interest-notes`."""

from __future__ import annotations

from datetime import date

import strawberry

from auth.staff import StaffPermission
from models.contract import Currency
from models.i18n import Msg, translate
from resolvers import interest_notes
from resolvers.ids import to_global_id
from schema.base import Info, Money, staff_permission
from schema.identity import UserError, user_errors
from schema.refs import DocumentRef


@strawberry.input(description="The month whose late payments are charged interest.")
class InterestNotesIssueInput:
    month: str = strawberry.field(description="YYYY-MM: a month that has begun.")


@strawberry.type(description="A late payment that got no note this run, and why.")
class InterestNoteSkip:
    invoice_id: strawberry.ID
    invoice_number: str
    booked_on: date = strawberry.field(description="The day the late money was booked.")
    code: str = strawberry.field(
        description="NOTE_EXISTS (already charged: e.g. a second run), RATE_NOT_PUBLISHED "
        "(a half-year not in the statutory table), NO_INTEREST (rounds to 0.00)."
    )
    text: strawberry.Private[str | Msg]

    @strawberry.field(description="For people, in the request's language (Accept-Language).")
    def message(self, info: Info) -> str:
        return translate(self.text, info.context.language)


@strawberry.type(description="What one run did; a second run of a month issues nothing new.")
class InterestNotesSummary:
    month: str
    invoices: int = strawberry.field(description="Invoices with money booked in the month.")
    late_payments: int = strawberry.field(
        description="Invoice and booking day pairs booked after the invoice's legal deadline."
    )
    issued: int
    interest: Money = strawberry.field(description="The interest of the notes issued now.")
    notes: list[DocumentRef] = strawberry.field(description="The notes issued now (NO/ series).")
    skipped: list[InterestNoteSkip]


@strawberry.type
class InterestNotesIssuePayload:
    summary: InterestNotesSummary | None
    errors: list[UserError]


def _summary(found: interest_notes.NotesSummary) -> InterestNotesSummary:
    return InterestNotesSummary(
        month=f"{found.month:%Y-%m}",
        invoices=found.invoices,
        late_payments=found.late_payments,
        issued=len(found.notes),
        interest=Money(amount=found.interest, currency=Currency.PLN),
        notes=found.notes,  # type: ignore[arg-type]
        skipped=[
            InterestNoteSkip(
                invoice_id=strawberry.ID(to_global_id("Invoice", skip.invoice_id)),
                invoice_number=skip.invoice_number,
                booked_on=skip.booked_on,
                code=skip.code,
                text=skip.message,
            )
            for skip in found.skipped
        ],
    )


@strawberry.type
class InterestNotesMutation:
    @strawberry.mutation(
        description="Staff: issue the interest notes a month calls for: every invoice's money "
        "booked in the month after its legal deadline (art. 115 KC) is charged statutory "
        "interest from the first day of delay to the day booked; each client gets the e-mail "
        "notice. Never twice for the same invoice and period.",
        extensions=staff_permission(StaffPermission.INVOICES_MANAGE),
    )
    async def interest_notes_issue(
        self, info: Info, input: InterestNotesIssueInput
    ) -> InterestNotesIssuePayload:
        found, errors = await interest_notes.issue_month_notes(info.context, month=input.month)
        return InterestNotesIssuePayload(
            summary=_summary(found) if found else None, errors=user_errors(errors)
        )
