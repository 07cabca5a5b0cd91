"""Importing a retorno: the bank's movements move the boletos along the lifecycle, in file order; lines that name
no boleto of ours are kept; an unreadable file is rejected with a code; the same bytes twice add nothing."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import text

from billing_pipeline import stages
from billing_pipeline.statuses import ReceivedVia, RetornoStatus
from billing_pipeline_tests.support.bank import Answer, boletos_of_sample, build_retorno, remessa_titles


@pytest.fixture
def sent(engine, settings, tmp_path):
    """40 boletos in remessa NSA 1: its bytes and its titles as the bank reads them."""
    boletos_of_sample(engine, settings, tmp_path, rows=40, seed=21)
    remessa = stages.remessa_stage(engine, settings).path.read_bytes()
    return remessa, remessa_titles(remessa)


def _import(engine, settings, tmp_path, data: bytes, name: str = "retorno.ret"):
    path = tmp_path / name
    path.write_bytes(data)
    registration = stages.register_retorno(engine, settings, path, received_via=ReceivedVia.PROCESS)
    return registration, stages.retorno_stage(engine, settings, registration.file_id)


def _statuses(engine) -> dict[int, str]:
    with engine.connect() as connection:
        return {int(sequence): status for sequence, status in connection.execute(text(
            "SELECT b.sequence, COALESCE(s.status, 'issued') FROM boletos b"
            " LEFT JOIN boleto_states s ON s.debt_id = b.debt_id"))}


def _sequence(title) -> int:
    return int(title.document_number.strip())  # seu número is the sequence


def test_confirmed_then_paid_in_one_file_ends_paid_and_an_older_file_moves_nothing_back(engine, settings, tmp_path,
                                                                                      sent):
    remessa, titles = sent
    first, second = titles[0], titles[1]
    paid_on = date(2026, 1, 15)
    newer = build_retorno(remessa, [Answer(first, "02"), Answer(first, "06", paid_cents=first.amount_cents + 77,
                                                                fee_cents=250, paid_on=paid_on),
                                    Answer(second, "03", reasons="48")], nsa=2)
    older = build_retorno(remessa, [Answer(first, "02"), Answer(second, "02")], nsa=1)

    _, outcome = _import(engine, settings, tmp_path, newer, "newer.ret")
    _, late = _import(engine, settings, tmp_path, older, "older.ret")

    assert (outcome.titles, outcome.applied, outcome.unmatched) == (3, 3, 0)
    assert outcome.by_status == {"paid": 1, "registration_rejected": 1}
    statuses = _statuses(engine)
    assert statuses[_sequence(first)] == "paid"
    assert statuses[_sequence(second)] == "registration_rejected"
    assert (late.applied, late.moved) == (2, 0)  # recorded, and neither boleto moved back
    assert any("already passed" in warning for warning in late.warnings)
    debt = stages.boleto_events(engine, _debt_of(engine, _sequence(first)))
    assert [(e.kind, e.status) for e in debt] == [("registration_sent", "registration_sent"),
                                                 ("registered", "registered"), ("paid", "paid"), ("registered", None)]
    assert (debt[2].amount_paid, debt[2].paid_on, debt[2].fees) == (
        f"{(first.amount_cents + 77) / 100:.2f}", "2026-01-15", "2.50")
    rejected = stages.boleto_events(engine, _debt_of(engine, _sequence(second)))[1]
    assert (rejected.movement_code, rejected.reasons) == ("03", "48")
    assert rejected.reason_texts.startswith("48: ")  # with the text cnab.codes gives it


def _debt_of(engine, sequence: int) -> str:
    with engine.connect() as connection:
        return connection.execute(text("SELECT CAST(debt_id AS TEXT) FROM boletos WHERE sequence = :s"),
                                  {"s": sequence}).scalar_one()


def test_lines_naming_no_boleto_of_ours_are_kept_and_reported(engine, settings, tmp_path, sent):
    remessa, titles = sent
    stranger = titles[2].nosso_numero_field.replace(titles[2].nosso_numero_field.strip()[3:11], "99999999", 1)
    other_debt = titles[3].company_use  # a real debt of ours, but not the one this nosso número belongs to
    answers = [Answer(titles[0], "02"), Answer(titles[1], "06", paid_cents=titles[1].amount_cents, paid_on=None,
                                               nosso_numero_field=stranger),
               Answer(titles[4], "02", company_use=other_debt)]

    registration, outcome = _import(engine, settings, tmp_path, build_retorno(remessa, answers, nsa=3))

    assert (outcome.applied, outcome.unmatched) == (1, 2)
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT line_number, movement_code, reason, raw_line FROM retorno_unmatched"
                                       " WHERE file_id = :f ORDER BY line_number"),
                                  {"f": registration.file_id}).all()
    assert [(line, code) for line, code, _, _ in kept] == [(5, "06"), (7, "02")]
    assert "nosso número" in kept[0].reason and "another debt" in kept[1].reason
    assert kept[0].raw_line.splitlines()[0][13] == "T" and kept[0].raw_line.splitlines()[1][13] == "U"
    report = json.loads(outcome.report_path.read_text())
    assert report["unmatched"] == 2
    assert [line["line_number"] for line in report["unmatched_lines"]] == [5, 7]
    assert report["by_movement"]["02"]["lines"] == 2
    assert _statuses(engine)[_sequence(titles[4])] == "registration_sent"  # not moved on a doubtful line


def test_the_same_retorno_twice_adds_nothing(engine, settings, tmp_path, sent):
    remessa, titles = sent
    data = build_retorno(remessa, [Answer(t, "02") for t in titles[:10]], nsa=4)
    first, outcome = _import(engine, settings, tmp_path, data, "a.ret")
    with engine.connect() as connection:
        events = connection.execute(text("SELECT COUNT(*) FROM boleto_events")).scalar_one()

    again, _ = (stages.register_retorno(engine, settings, _write(tmp_path / "b.ret", data),
                                        received_via=ReceivedVia.PROCESS), None)
    rerun = stages.retorno_stage(engine, settings, first.file_id)

    assert (first.new, again.new, again.processed) == (True, False, True)
    assert (outcome.applied, rerun.applied, rerun.already_applied) == (10, 0, 10)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM boleto_events")).scalar_one() == events
    assert stages.retornos_to_import(engine) == []


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("data", "code"), [
    (b"this is not a bank file\r\n", "NOT_CNAB240"),
    ("remessa", "NOT_RETORNO"),
    ("other bank", "OTHER_BANK"),
])
def test_a_file_that_is_not_our_retorno_is_rejected_with_a_code(engine, settings, tmp_path, sent, data, code):
    remessa, titles = sent
    if data == "remessa":
        data = remessa
    elif data == "other bank":
        data = b"\r\n".join(b"237" + line[3:] for line in build_retorno(remessa, [Answer(titles[0], "02")],
                                                                         nsa=5).splitlines()) + b"\r\n"
    before = _statuses(engine)

    registration, outcome = _import(engine, settings, tmp_path, data)

    assert (outcome.status, outcome.error_code) == (RetornoStatus.REJECTED, code)
    assert outcome.error.startswith(code)
    assert _statuses(engine) == before
    report = json.loads(outcome.report_path.read_text())
    assert report["error"]["code"] == code
    assert stages.register_retorno(engine, settings, _write(tmp_path / "again.ret", data)).processed


def test_itau_movements_are_read_as_itau_numbers_them(engine, settings, tmp_path, sent):
    """The DEMO account is Itaú's: its 17 is a rejected change (FEBRABAN's 17 is a settlement), its 32 a protest."""
    remessa, titles = sent
    first, second = titles[0], titles[1]
    retorno = build_retorno(remessa, [Answer(first, "02"), Answer(first, "17"), Answer(second, "02"),
                                      Answer(second, "32")], nsa=5)
    _, outcome = _import(engine, settings, tmp_path, retorno)
    statuses = _statuses(engine)
    assert statuses[_sequence(first)] == "registered"
    assert statuses[_sequence(second)] == "protested"
    assert outcome.by_status == {"registered": 1, "protested": 1}


def test_a_retorno_for_another_account_of_the_bank_is_rejected_and_moves_nothing(engine, settings, tmp_path, sent):
    remessa, titles = sent
    retorno = build_retorno(remessa, [Answer(titles[0], "02"), Answer(titles[0], "06", paid_cents=100)], nsa=6)
    header, rest = retorno.split(b"\r\n", 1)
    other = header[:53] + b"9999" + header[57:]  # Itaú's header agência (54-57)
    _, outcome = _import(engine, settings, tmp_path, other + b"\r\n" + rest)
    assert outcome.status == RetornoStatus.REJECTED
    assert outcome.error.startswith("OTHER_ACCOUNT")
    assert set(_statuses(engine).values()) == {"registration_sent"}


def test_the_same_retorno_saved_with_lf_line_ends_applies_nothing_again(engine, settings, tmp_path, sent):
    remessa, titles = sent
    answers = [Answer(titles[0], "02"), Answer(titles[0], "06", paid_cents=titles[0].amount_cents, fee_cents=250)]
    _import(engine, settings, tmp_path, build_retorno(remessa, answers, nsa=7), "crlf.ret")
    with engine.connect() as connection:
        before = connection.execute(text("SELECT COUNT(*), SUM(fees) FROM boleto_events")).one()
    _, again = _import(engine, settings, tmp_path, build_retorno(remessa, answers, nsa=7, line_end="\n"), "lf.ret")
    assert again.status == RetornoStatus.REJECTED and again.error.startswith("DUPLICATE_RETORNO")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*), SUM(fees) FROM boleto_events")).one() == before
