"""The remessa: every boleto never sent goes out once as an entrada, every cancel of a sent one once as a baixa,
numbered by the account's NSA and recorded with its states and events; nothing pending writes nothing."""

from __future__ import annotations

from sqlalchemy import text

from billing_pipeline import stages
from billing_pipeline.cnab.identifiers import debt_ids_from_company_use
from billing_pipeline.cnab.reader import read_cnab
from billing_pipeline.statuses import BoletoStatus
from billing_pipeline_tests.support.bank import boletos_of_sample


def _boletos(engine) -> dict[int, str]:
    with engine.connect() as connection:
        return {int(sequence): str(debt_id) for sequence, debt_id in connection.execute(
            text("SELECT sequence, CAST(debt_id AS TEXT) FROM boletos"))}


def test_every_new_boleto_goes_out_once_as_an_entrada(engine, settings, tmp_path):
    boletos_of_sample(engine, settings, tmp_path, rows=120, seed=5)
    boletos = _boletos(engine)

    outcome = stages.remessa_stage(engine, settings)

    assert (outcome.nsa, outcome.entradas, outcome.baixas) == (1, len(boletos), 0)
    assert outcome.path.name == f"{stages.account_name(settings.account)}-000001.rem"
    remessa = read_cnab(outcome.path.read_bytes())
    assert (remessa.kind, remessa.nsa, remessa.lines) == ("remessa", 1, outcome.lines)
    assert outcome.lines == 4 + 2 * len(boletos)
    sent = remessa.titles
    assert sorted(sent["sequence"].astype(int)) == sorted(boletos)
    assert list(sent["sequence"].astype(int)) == sorted(boletos)  # in nosso número order
    # The uso da empresa names the debt, for the retorno's cross-check.
    assert list(debt_ids_from_company_use(sent["company_use"])) == [boletos[int(s)] for s in sent["sequence"]]
    with engine.connect() as connection:
        states = connection.execute(text("SELECT status, entrada_nsa, COUNT(*) FROM boleto_states"
                                         " GROUP BY status, entrada_nsa")).all()
        written = connection.execute(text("SELECT COUNT(*) FROM boleto_events")).scalar_one()
    assert states == [(BoletoStatus.REGISTRATION_SENT, 1, len(boletos))]
    # No event row per entrada: the registration_sent event is the state's NSA and P line with the remessa's row.
    assert written == 0
    for title in sent.iloc[[0, 1, len(sent) - 1]].itertuples():
        [event] = stages.boleto_events(engine, boletos[int(title.sequence)])
        assert (event.kind, event.status, event.source_kind, event.source, event.line_number) == (
            "registration_sent", "registration_sent", "remessa", outcome.path.name, title.line_number)

    assert stages.remessa_stage(engine, settings).path is None  # nothing pending: no file, no NSA
    boletos_of_sample(engine, settings, tmp_path, rows=7, seed=6)
    assert (later := stages.remessa_stage(engine, settings)).nsa == 2
    assert later.entradas == 7


def test_entradas_without_a_full_address_are_sent_and_counted(engine, settings, tmp_path):
    boletos_of_sample(engine, settings, tmp_path, rows=200, seed=8)
    with engine.connect() as connection:
        without = connection.execute(text(
            "SELECT COUNT(*) FROM debts WHERE COALESCE(payer_address, '') = '' OR COALESCE(payer_zip_code, '') = ''"
            " OR COALESCE(payer_city, '') = '' OR COALESCE(payer_state, '') = ''")).scalar_one()
    assert without > 0

    outcome = stages.remessa_stage(engine, settings)

    assert outcome.missing_address == without
    assert outcome.entradas == 200


def test_a_cancelled_boleto_goes_out_as_one_baixa_in_the_next_remessa(engine, settings, tmp_path):
    boletos_of_sample(engine, settings, tmp_path, rows=30, seed=9)
    boletos = _boletos(engine)
    stages.remessa_stage(engine, settings)
    sequence = sorted(boletos)[4]

    cancelled = stages.cancel_boleto(engine, settings, boletos[sequence])
    assert cancelled.changed
    remessa = stages.remessa_stage(engine, settings)

    assert (remessa.nsa, remessa.entradas, remessa.baixas, remessa.lines) == (2, 0, 1, 5)
    [baixa] = read_cnab(remessa.path.read_bytes()).titles.itertuples()
    assert (baixa.movement_code, int(baixa.sequence), baixa.line_number) == ("02", sequence, 3)
    assert "NSA 2" in stages.cancel_boleto(engine, settings, boletos[sequence]).message  # idempotent
    assert stages.remessa_stage(engine, settings).path is None
    kinds = [event.kind for event in stages.boleto_events(engine, boletos[sequence])]
    assert kinds == ["registration_sent", "baixa_requested", "baixa_sent"]


def test_pending_counts_and_their_marker_follow_the_queue(engine, settings, tmp_path):
    boletos_of_sample(engine, settings, tmp_path, rows=10, seed=10)
    before = stages.remessa_pending(engine, settings)
    assert (before.entradas, before.baixas) == (10, 0)
    stages.remessa_stage(engine, settings)
    after = stages.remessa_pending(engine, settings)
    assert (after.entradas, after.baixas) == (0, 0)
    assert after.marker != before.marker
    [written] = stages.remessas_after(engine, 0)
    assert (written.nsa, written.entradas) == (1, 10)
    assert written.path.exists()
    assert stages.remessas_after(engine, written.id) == []
