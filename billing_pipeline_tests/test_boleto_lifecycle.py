"""A boleto's life as data (movements, events, transitions), the cancel command, and remessas made at the same
time getting distinct, increasing NSAs."""

from __future__ import annotations

import threading
from datetime import date

import numpy as np
import pytest
from sqlalchemy import text

from billing_pipeline import boleto_lifecycle as lifecycle
from billing_pipeline import stages
from billing_pipeline.cnab.codes import MovementCode
from billing_pipeline.statuses import BoletoEventKind, BoletoStatus
from billing_pipeline.store.boleto_events import CancelResult
from billing_pipeline_tests.support.bank import Answer, boletos_of_sample, build_retorno, remessa_titles


def test_each_retorno_movement_is_the_event_the_lifecycle_names():
    expected = {
        MovementCode.ENTRY_CONFIRMED: BoletoEventKind.REGISTERED,
        MovementCode.ENTRY_REJECTED: BoletoEventKind.REGISTRATION_REJECTED,
        MovementCode.SETTLED: BoletoEventKind.PAID,
        MovementCode.SETTLED_AFTER_WRITE_OFF: BoletoEventKind.PAID,
        MovementCode.WRITTEN_OFF: BoletoEventKind.WRITTEN_OFF,
        MovementCode.PROTESTED: BoletoEventKind.PROTESTED,
        MovementCode.PROTEST_SENT: BoletoEventKind.PROTEST_SENT,
        MovementCode.INSTRUCTION_REJECTED: BoletoEventKind.INSTRUCTION_REJECTED,
        MovementCode.CHANGE_REJECTED: BoletoEventKind.INSTRUCTION_REJECTED,
        MovementCode.FEES_DEBITED: BoletoEventKind.FEES_DEBITED,
    }
    assert {code: lifecycle.event_of_movement(code) for code in expected} == expected
    assert lifecycle.event_of_movement(MovementCode.PAYER_OCCURRENCE) == BoletoEventKind.OTHER


def test_transitions_cover_every_status_and_never_leave_paid():
    assert set(lifecycle.TRANSITIONS) == set(BoletoStatus)
    assert lifecycle.TRANSITIONS[BoletoStatus.PAID] == frozenset()
    for status, targets in lifecycle.TRANSITIONS.items():
        assert status not in targets
        assert BoletoStatus.ISSUED not in targets  # nothing goes back to never sent
    assert lifecycle.next_status(BoletoStatus.WRITTEN_OFF, BoletoEventKind.PAID) == BoletoStatus.PAID  # 17
    assert lifecycle.next_status(BoletoStatus.REGISTERED, BoletoEventKind.FEES_DEBITED) is None


def test_a_boletos_events_fold_in_order_as_the_single_transitions_do():
    rng = np.random.default_rng(3)
    kinds = np.array([kind.value for kind in lifecycle.EVENT_STATUS] + ["fees_debited", "other"])
    for _ in range(200):
        events = rng.choice(kinds, size=rng.integers(1, 6))
        start = BoletoStatus(str(rng.choice([status.value for status in BoletoStatus])))
        expected, state = [], start
        for event in events:
            state = lifecycle.next_status(state, str(event)) or state
            expected.append(state.value)
        after, _ = lifecycle.apply_in_order(np.zeros(len(events), dtype=np.int64),
                                            lifecycle.status_codes(np.array([start.value] * len(events))),
                                            lifecycle.target_codes(events))
        assert [lifecycle.STATUS_CODES[i].value for i in after] == expected


def test_overdue_is_shown_for_open_boletos_past_due_only():
    due, today = date(2026, 3, 1), date(2026, 3, 2)
    assert {status: lifecycle.shown_status(status, due, today) for status in BoletoStatus} == {
        BoletoStatus.ISSUED: "overdue", BoletoStatus.REGISTRATION_SENT: "overdue", BoletoStatus.REGISTERED: "overdue",
        BoletoStatus.REGISTRATION_REJECTED: "registration_rejected", BoletoStatus.PAID: "paid",
        BoletoStatus.WRITTEN_OFF: "written_off", BoletoStatus.PROTESTED: "protested"}
    assert lifecycle.shown_status(None, due, date(2026, 2, 1)) == "issued"


def _debts(engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT CAST(debt_id AS TEXT) FROM boletos ORDER BY sequence")).scalars())


def test_cancel_writes_off_at_once_what_the_bank_never_saw_and_queues_a_baixa_for_the_rest(engine, settings,
                                                                                         tmp_path):
    boletos_of_sample(engine, settings, tmp_path, rows=6, seed=31)
    never_sent = _debts(engine)[0]

    local = stages.cancel_boleto(engine, settings, never_sent)
    assert (local.result, local.status) == (CancelResult.WRITTEN_OFF, BoletoStatus.WRITTEN_OFF)
    assert stages.cancel_boleto(engine, settings, never_sent).result == CancelResult.ALREADY_WRITTEN_OFF
    remessa = stages.remessa_stage(engine, settings)
    assert (remessa.entradas, remessa.baixas) == (5, 0)  # the written-off one is in no remessa

    sent = _debts(engine)[1:]
    queued = stages.cancel_boleto(engine, settings, sent[0])
    assert (queued.result, queued.status) == (CancelResult.BAIXA_REQUESTED, BoletoStatus.REGISTRATION_SENT)
    assert stages.cancel_boleto(engine, settings, sent[0]).result == CancelResult.ALREADY_REQUESTED
    assert stages.boleto_summary(engine, sent[0])["baixa"] == "requested"

    data = remessa.path.read_bytes()
    titles = remessa_titles(data)
    retorno = build_retorno(data, [Answer(titles[1], "06", paid_cents=titles[1].amount_cents,
                                          paid_on=date(2026, 1, 9)), Answer(titles[2], "03", reasons="45")], nsa=1)
    path = tmp_path / "r.ret"
    path.write_bytes(retorno)
    stages.retorno_stage(engine, settings, stages.register_retorno(engine, settings, path).file_id)
    for debt_id, status in ((sent[1], "paid"), (sent[2], "registration rejected")):
        with pytest.raises(stages.BoletoNotCancellable, match=f"it is {status}"):
            stages.cancel_boleto(engine, settings, debt_id)
    with pytest.raises(LookupError):
        stages.cancel_boleto(engine, settings, "00000000-0000-4000-8000-000000000000")
    assert [e.kind for e in stages.boleto_events(engine, never_sent)] == ["written_off"]
    assert stages.boleto_summary(engine, sent[1], today=date(2026, 1, 10))["status"] == "paid"


def test_remessas_made_at_the_same_time_get_distinct_increasing_nsas(engine, settings, tmp_path):
    boletos_of_sample(engine, settings, tmp_path, rows=40, seed=33)
    stages.remessa_stage(engine, settings)
    debts = _debts(engine)
    errors: list[BaseException] = []

    def cancel_and_send(mine: list[str]) -> None:
        try:
            for debt_id in mine:
                stages.cancel_boleto(engine, settings, debt_id)
                stages.remessa_stage(engine, settings)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            errors.append(error)

    threads = [threading.Thread(target=cancel_and_send, args=(debts[i::4][:6],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with engine.connect() as connection:
        remessas = connection.execute(text("SELECT nsa, baixas FROM remessas ORDER BY id")).all()
        sent_once = connection.execute(text("SELECT COUNT(DISTINCT debt_id), COUNT(*) FROM boleto_events"
                                            " WHERE kind = 'baixa_sent'")).one()
    nsas = [nsa for nsa, _ in remessas]
    assert nsas == list(range(1, len(nsas) + 1))  # distinct and increasing, in the order they were recorded
    assert sum(baixas for _, baixas in remessas) == 24
    assert tuple(sent_once) == (24, 24)  # every baixa in exactly one remessa
