"""What a reminder's message offers, by its day: the discount only while it holds, the PIX code only before the
due date has passed (a static code pays the face value, without the fine and interest the bank charges)."""

from __future__ import annotations

from datetime import date

import pytest

from billing_pipeline.charge_terms import ChargeTerms
from billing_pipeline.issued_boleto import IssuedBoleto
from billing_pipeline.pix.brcode import parse_brcode
from billing_pipeline.settings import Settings
from billing_pipeline.stages.notify import notice_for
from billing_pipeline.store.outbox import BOLETO_NOTICE, OutgoingNotice
from billing_pipeline.store.reminders import kind_of

DUE = date(2026, 12, 20)
TERMS = ChargeTerms(fine_basis_points=200, interest_monthly_basis_points=100, discount_basis_points=500,
                    discount_until=date(2026, 12, 15))
BOLETO = IssuedBoleto("7c9e6679-7425-40de-944b-e07fc1f90ae7", "109/00000001-6", "3" * 44, "3" * 47, DUE,
                      date(2026, 12, 1), 100_000, "Ana Silva", "52998224725", terms=TERMS)
SETTINGS = Settings.from_env({"BILLING_PIX_KEY": "123e4567-e12b-12d1-a456-426655440000"})


def _notice(kind: str):
    return notice_for(OutgoingNotice(1, "chunk", "ana@example.com", "<id>", 0, BOLETO, kind), SETTINGS)


def test_the_first_notice_and_a_reminder_before_the_discount_date_offer_the_discount_and_pix():
    for kind in (BOLETO_NOTICE, kind_of(-7)):
        notice = _notice(kind)
        assert any("desconto de 5,00%" in line for line in notice.instructions), kind
        assert parse_brcode(notice.pix_copia_e_cola)["54"] == "1000.00"


def test_a_reminder_after_the_discount_date_no_longer_offers_the_discount():
    notice = _notice(kind_of(-3))  # 17/12, after the discount's 15/12
    assert not any("desconto" in line for line in notice.instructions)
    assert any("multa de 2,00%" in line for line in notice.instructions)
    assert notice.pix_copia_e_cola is not None  # not due yet: the face value is what is owed


@pytest.mark.parametrize("days", [1, 7, 15])
def test_an_overdue_reminder_states_fine_and_interest_but_offers_no_face_value_pix(days):
    notice = _notice(kind_of(days))
    assert notice.reminder_days == days
    assert notice.pix_copia_e_cola is None
    assert [line for line in notice.instructions if "desconto" in line] == []
    assert any("juros de mora de 1,00% ao mês" in line for line in notice.instructions)
