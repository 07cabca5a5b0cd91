"""A 10,000-row file to the bank and back: its boletos in a remessa, then a retorno written by this test from the
manual's positions that confirms the registrations, rejects some with reasons, pays half, some with another amount
than the face value. Every boleto ends exactly where the bank said, with what was paid; the same retorno again
changes nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from billing_pipeline import stages
from billing_pipeline.statuses import BoletoStatus, ReceivedVia
from billing_pipeline.store.file_report import file_report
from billing_pipeline_tests.support.bank import Answer, boletos_of_sample, build_retorno, remessa_titles

ROWS = 10_000
PAID_ON = date(2026, 1, 12)


def _table(engine, query: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def test_a_file_goes_to_the_bank_and_back(engine, settings, tmp_path):
    stored = boletos_of_sample(engine, settings, tmp_path, rows=ROWS, seed=41)
    remessa = stages.remessa_stage(engine, settings)
    assert remessa.entradas == ROWS
    data = remessa.path.read_bytes()
    titles = remessa_titles(data)
    assert len(titles) == ROWS

    answers, expected = [], {}  # sequence -> (status, cents paid)
    paid = 0
    for index, title in enumerate(titles):
        sequence = int(title.document_number)
        if index % 20 == 7:
            answers.append(Answer(title, "03", reasons="4548"))
            expected[sequence] = (BoletoStatus.REGISTRATION_REJECTED, None)
            continue
        answers.append(Answer(title, "02"))
        if paid < ROWS // 2:
            paid += 1
            cents = title.amount_cents + (1234 if paid % 10 == 0 else -500 if paid % 10 == 5 else 0)
            answers.append(Answer(title, "06", paid_cents=cents, fee_cents=250, paid_on=PAID_ON))
            expected[sequence] = (BoletoStatus.PAID, cents)
        else:
            expected[sequence] = (BoletoStatus.REGISTERED, None)
    retorno = tmp_path / "CN12016A.RET"
    retorno.write_bytes(build_retorno(data, answers, nsa=1))

    registration = stages.register_retorno(engine, settings, retorno, received_via=ReceivedVia.PROCESS,
                                           keep_original=True)
    outcome = stages.retorno_stage(engine, settings, registration.file_id)

    assert (outcome.titles, outcome.applied, outcome.already_applied, outcome.unmatched) == (len(answers),) * 2 + (
        0, 0)
    assert outcome.by_status == {"paid": ROWS // 2, "registered": 4_500, "registration_rejected": 500}
    found = {int(sequence): (status, None if cents is None else int(cents))
             for sequence, status, cents in _table(engine,
                 "SELECT b.sequence, s.status, CAST(ROUND(s.amount_paid * 100) AS BIGINT) FROM boletos b"
                 " JOIN boleto_states s ON s.debt_id = b.debt_id")}
    assert found == expected
    assert _table(engine, "SELECT COUNT(*) FROM boleto_states WHERE status = 'paid' AND paid_on IS NULL") == [(0,)]
    rejected = _table(engine, "SELECT DISTINCT reasons FROM boleto_events WHERE kind = 'registration_rejected'")
    assert rejected == [("45,48",)]

    collection = stages.file_collection(engine, stored.file_id, today=date(2026, 1, 2))
    face = {int(t.document_number): t.amount_cents for t in titles}
    paid_ones = [s for s, (status, _) in expected.items() if status == BoletoStatus.PAID]
    assert (collection.paid.count, collection.paid.amount_cents) == (ROWS // 2, sum(face[s] for s in paid_ones))
    assert collection.paid_cents == sum(cents for status, cents in expected.values() if status == BoletoStatus.PAID)
    assert collection.paid_cents != collection.paid.amount_cents
    assert collection.rejected_by_bank.count == 500
    assert collection.outstanding.count + collection.overdue.count == 4_500
    assert file_report(engine, stored.file_id)["collection"]["paid"]["count"] == ROWS // 2

    states = "SELECT * FROM boleto_states ORDER BY debt_id"
    events = "SELECT * FROM boleto_events ORDER BY id"
    before = (_table(engine, states), _table(engine, events))
    again = stages.register_retorno(engine, settings, retorno, received_via=ReceivedVia.PROCESS, keep_original=True)
    rerun = stages.retorno_stage(engine, settings, registration.file_id)
    assert (again.new, rerun.applied, rerun.already_applied) == (False, 0, len(answers))
    assert (_table(engine, states), _table(engine, events)) == before
