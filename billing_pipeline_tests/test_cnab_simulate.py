"""The demo bank: a simulated retorno for a remessa we wrote, read back by our reader, follows its plan."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from billing_pipeline.cnab.reader import read_cnab
from billing_pipeline.cnab.simulate import CEP_INVALID, FEE_CENTS, planned_outcomes, simulate_retorno
from billing_pipeline_tests.test_cnab_remessa import ACCOUNTS, make_titles, write

PAID_ON = date(2025, 4, 10)


@pytest.mark.parametrize("bank_code", sorted(ACCOUNTS))
def test_simulated_retorno_follows_the_plan(bank_code):
    remessa, _ = write(ACCOUNTS[bank_code], make_titles(200, seed=3), nsa=17)
    options = {"paid": 0.5, "rejected": 0.1, "paid_on": PAID_ON, "seed": 5, "different_amount": 0.3}
    plan = planned_outcomes(remessa, **options)
    retorno = read_cnab(simulate_retorno(remessa, **options))
    assert retorno.warnings == []
    assert (retorno.kind, retorno.bank_code, retorno.nsa, retorno.simulated) == ("retorno", bank_code, 17, True)
    source = read_cnab(remessa)
    assert (retorno.agencia, retorno.convenio, retorno.company_document) == \
        (source.agencia, source.convenio, source.company_document)
    titles = retorno.titles
    outcomes = plan["outcome"].value_counts()
    by_movement = titles["movement_code"].value_counts()
    assert by_movement.get("03", 0) == outcomes.get("rejected", 0)
    assert by_movement.get("02", 0) == outcomes.get("confirmed", 0) + outcomes.get("paid", 0)
    assert by_movement.get("06", 0) == outcomes.get("paid", 0) > 0
    assert by_movement.get("09", 0) == outcomes.get("written_off", 0) == 50
    # every title of the plan is found again by its sequence, with the planned figures
    settled = titles[titles["movement_code"] == "06"].set_index("sequence")
    paid = plan[plan["outcome"] == "paid"].set_index("sequence")
    assert sorted(settled.index) == sorted(paid.index)
    assert (settled.loc[paid.index, "paid_cents"] == paid["paid_cents"]).all()
    assert (settled["fee_cents"] == FEE_CENTS).all()
    assert (settled["credited_cents"] == settled["paid_cents"] - FEE_CENTS).all()
    assert (settled["payment_date"] == pd.Timestamp(PAID_ON)).all()
    assert (settled["credit_date"] == pd.Timestamp(PAID_ON) + pd.Timedelta(days=1)).all()
    different = (paid["paid_cents"] != paid["amount_cents"]).sum()
    assert 0 < different < len(paid)
    rejected = titles[titles["movement_code"] == "03"].set_index("sequence")
    planned_rejections = plan[plan["outcome"] == "rejected"].set_index("sequence")
    assert (rejected.loc[planned_rejections.index, "reasons"] == planned_rejections["reasons"]).all()
    assert (rejected["reason_texts"].str.len() > 0).all()


def test_a_title_without_an_address_is_rejected_for_its_cep():
    titles = make_titles(40)
    remessa, _ = write(ACCOUNTS["341"], titles)
    plan = planned_outcomes(remessa, paid=1.0, rejected=0.0, paid_on=PAID_ON)
    no_address = ((titles["cep"] == "") & (titles["movement"] == "01")).to_numpy()
    assert (plan.loc[no_address, "outcome"] == "rejected").all()
    assert (plan.loc[no_address, "reasons"] == CEP_INVALID).all()
    entradas = (titles["movement"] == "01").to_numpy()
    assert (plan.loc[entradas & ~no_address, "outcome"] == "paid").all()


def test_simulation_is_deterministic_for_a_seed():
    remessa, _ = write(ACCOUNTS["237"], make_titles(120))
    first = simulate_retorno(remessa, paid_on=PAID_ON, seed=9, different_amount=0.2)
    assert simulate_retorno(remessa, paid_on=PAID_ON, seed=9, different_amount=0.2) == first
    assert simulate_retorno(remessa, paid_on=PAID_ON, seed=10, different_amount=0.2) != first
    pd.testing.assert_frame_equal(planned_outcomes(remessa, paid_on=PAID_ON, seed=9),
                                  planned_outcomes(remessa, paid_on=PAID_ON, seed=9))
    assert b"SIMULACAO SMART BILLING" in first.split(b"\r\n")[0]


def test_a_retorno_is_not_simulated_from_a_retorno():
    remessa, _ = write(ACCOUNTS["341"], make_titles(5))
    retorno = simulate_retorno(remessa, paid_on=PAID_ON)
    with pytest.raises(ValueError, match="from a remessa"):
        planned_outcomes(retorno, paid_on=PAID_ON)
