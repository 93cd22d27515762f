"""What an invoice line says about VAT: its rate, or "zw" / "np", and why there is no tax.

Plain enums with no table, so that both `models/invoice.py` and `models/contract.py` can store
them; the rule that picks them by what is invoiced is `models.finance.vat_for`.
"""

from __future__ import annotations

import enum

# Every citation below is of the VAT Act: ustawa z dnia 11 marca 2004 r. o podatku od towarów
# i usług (Dz.U. 2004 nr 54 poz. 535, as amended).
VAT_ACT = "ustawy o VAT"


class VatCategory(enum.StrEnum):
    """The VAT rate an invoice prints (art. 106e ust. 1 pkt 12), or instead of a rate "zw"
    (exempt, art. 43) or "np" (no taxable supply here); stored as the printed value."""

    RATE_23 = "23"  # art. 41 ust. 1 with art. 146ef ust. 1 pkt 1: the standard rate
    RATE_8 = "8"  # art. 41 ust. 2 with art. 146ef ust. 1 pkt 2
    RATE_5 = "5"  # art. 41 ust. 2a
    RATE_0 = "0"  # art. 41 ust. 3 and others: taxed at 0 %, unlike zw and np
    EXEMPT = "zw"
    NOT_SUBJECT = "np"

    @property
    def percent(self) -> int:
        """The percentage VAT is computed with: 0 for exempt and not-subject lines."""
        return int(self.value) if self.value.isdigit() else 0

    @property
    def label(self) -> str:
        """As an invoice prints it: "23%", "0%", "zw", "np"."""
        return f"{self.value}%" if self.value.isdigit() else self.value

    @classmethod
    def of_percent(cls, percent: int) -> VatCategory:
        """The category of a legacy integer rate (23, 8, 5, 0); ValueError for any other."""
        return cls(str(percent))


class VatBasis(enum.StrEnum):
    """Why a line carries no VAT, printed on the invoice next to "zw" or "np": art. 106e ust. 1
    pkt 19 asks an exempt invoice to name the provision it is exempt under."""

    # Loans and their fees: the granting of credit (art. 43 ust. 1 pkt 38).
    CREDIT = "CREDIT"
    # The asset's insurance re-invoiced at cost: an insurance service (art. 43 ust. 1 pkt 37),
    # the lessor treated as supplying what it bought in its own name (art. 8 ust. 2a), separate
    # from the lease (CJEU C-224/11 BGŻ Leasing, 17 January 2013).
    INSURANCE = "INSURANCE"
    # A financial-lease instalment: the lease is a supply of goods (art. 7 ust. 1 pkt 2 and
    # ust. 9) taxed in full when the asset is handed over (art. 19a ust. 1, art. 29a ust. 1), so
    # paying for it later is no new taxable event.
    TAXED_AT_DELIVERY = "TAXED_AT_DELIVERY"
    # Money that pays for no supply (a contractual penalty, damages): outside art. 5 ust. 1.
    NOT_A_SUPPLY = "NOT_A_SUPPLY"

    @property
    def text(self) -> str:
        """The sentence the invoice prints (Polish: invoices are Polish legal documents)."""
        return _BASIS_TEXTS[self]


_BASIS_TEXTS = {
    VatBasis.CREDIT: (
        f"Zwolnienie z VAT: art. 43 ust. 1 pkt 38 {VAT_ACT} (usługa udzielania pożyczki)."
    ),
    VatBasis.INSURANCE: (
        f"Zwolnienie z VAT: art. 43 ust. 1 pkt 37 w zw. z art. 8 ust. 2a {VAT_ACT} "
        "(refaktura usługi ubezpieczenia przedmiotu umowy; wyrok TSUE C-224/11 BGŻ Leasing)."
    ),
    VatBasis.TAXED_AT_DELIVERY: (
        "Nie podlega VAT: podatek od całej kwoty należnej z umowy leasingu finansowego wykazano "
        "w fakturze dokumentującej dostawę przedmiotu leasingu (art. 7 ust. 1 pkt 2 i ust. 9, "
        f"art. 19a ust. 1 i art. 29a ust. 1 {VAT_ACT})."
    ),
    VatBasis.NOT_A_SUPPLY: (
        "Nie podlega VAT: kwota nie jest wynagrodzeniem za dostawę towarów ani świadczenie "
        f"usług (art. 5 ust. 1 {VAT_ACT})."
    ),
}
