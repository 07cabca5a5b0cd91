"""A boleto's life with the bank, as data: which retorno movement is which event, which status an event leads to,
and which status may follow which.

One place for all of it: the remessa and retorno stores, the cancel command and the reports read these tables, and
nothing else decides a transition. The movement codes are FEBRABAN's C044 (cnab.codes.MovementCode names them; the
lifecycle keeps the plain two-character codes so that it depends on no file format).

A retorno repeats what the bank already said (an older file imported late, the same file twice): a transition that
is not in TRANSITIONS is recorded as an event and changes nothing, so a paid boleto never goes back to registered.

>>> event_of_movement("06"), event_of_movement("99")
(<BoletoEventKind.PAID: 'paid'>, <BoletoEventKind.OTHER: 'other'>)
>>> next_status(BoletoStatus.REGISTRATION_SENT, BoletoEventKind.REGISTERED)
<BoletoStatus.REGISTERED: 'registered'>
>>> next_status(BoletoStatus.PAID, BoletoEventKind.REGISTERED) is None
True
>>> shown_status("registered", date(2026, 1, 10), today=date(2026, 1, 11))
'overdue'
>>> shown_status("paid", date(2026, 1, 10), today=date(2026, 1, 11))
'paid'
"""

from __future__ import annotations

from datetime import date

import numpy as np

from billing_pipeline.statuses import BoletoEventKind, BoletoStatus

# Retorno movement code (C044) -> the event it is. Every other code is BoletoEventKind.OTHER.
MOVEMENT_EVENTS: dict[str, BoletoEventKind] = {
    "02": BoletoEventKind.REGISTERED,  # entrada confirmada
    "03": BoletoEventKind.REGISTRATION_REJECTED,  # entrada rejeitada
    "06": BoletoEventKind.PAID,  # liquidação
    "09": BoletoEventKind.WRITTEN_OFF,  # baixa
    "17": BoletoEventKind.PAID,  # liquidação após baixa
    "23": BoletoEventKind.PROTEST_SENT,  # remessa a cartório
    "25": BoletoEventKind.PROTESTED,  # protestado e baixado
    "26": BoletoEventKind.INSTRUCTION_REJECTED,  # instrução rejeitada
    "28": BoletoEventKind.FEES_DEBITED,  # débito de tarifas/custas
    "30": BoletoEventKind.INSTRUCTION_REJECTED,  # alteração de dados rejeitada
}

# The status an event moves a boleto to; events absent here (baixa requested or sent, protest sent, rejected
# instructions, fees, other movements) are recorded and move nothing.
EVENT_STATUS: dict[BoletoEventKind, BoletoStatus] = {
    BoletoEventKind.REGISTRATION_SENT: BoletoStatus.REGISTRATION_SENT,
    BoletoEventKind.REGISTERED: BoletoStatus.REGISTERED,
    BoletoEventKind.REGISTRATION_REJECTED: BoletoStatus.REGISTRATION_REJECTED,
    BoletoEventKind.PAID: BoletoStatus.PAID,
    BoletoEventKind.WRITTEN_OFF: BoletoStatus.WRITTEN_OFF,
    BoletoEventKind.PROTESTED: BoletoStatus.PROTESTED,
}

S = BoletoStatus
# status -> the statuses it may move to. The bank is the authority on money: a payment it reports is taken from any
# status but paid (17 is a payment after a write-off; a protested title is paid at the notary's). Issued may move
# to written_off locally (a cancel before any remessa), and to the bank's answers in case a remessa was sent by
# other means. A rejected entrada goes out again only when an operator asks (registration_sent): until then an
# older file's confirmation does not undo the rejection.
TRANSITIONS: dict[BoletoStatus, frozenset[BoletoStatus]] = {
    S.ISSUED: frozenset({S.REGISTRATION_SENT, S.REGISTERED, S.REGISTRATION_REJECTED, S.PAID, S.WRITTEN_OFF}),
    S.REGISTRATION_SENT: frozenset({S.REGISTERED, S.REGISTRATION_REJECTED, S.PAID, S.WRITTEN_OFF, S.PROTESTED}),
    S.REGISTERED: frozenset({S.PAID, S.WRITTEN_OFF, S.PROTESTED}),
    S.REGISTRATION_REJECTED: frozenset({S.REGISTRATION_SENT, S.PAID}),
    S.PAID: frozenset(),
    S.WRITTEN_OFF: frozenset({S.PAID}),
    S.PROTESTED: frozenset({S.PAID, S.WRITTEN_OFF}),
}

# Not settled with the bank: still payable, so shown as overdue once the due date has passed.
OPEN_STATUSES = (S.ISSUED, S.REGISTRATION_SENT, S.REGISTERED)
OVERDUE = "overdue"
# A cancel: a boleto the bank does not know yet is written off at once; one it knows gets a baixa in the next
# remessa; any other is refused.
CANCELLED_LOCALLY = (S.ISSUED,)
CANCELLED_BY_BAIXA = (S.REGISTRATION_SENT, S.REGISTERED)


def event_of_movement(movement_code: str) -> BoletoEventKind:
    return MOVEMENT_EVENTS.get(movement_code.strip(), BoletoEventKind.OTHER)


def next_status(current: BoletoStatus | str, event: BoletoEventKind | str) -> BoletoStatus | None:
    """The status `event` moves a boleto in `current` to; None when it moves nothing."""
    target = EVENT_STATUS.get(BoletoEventKind(event))
    if target is None or target not in TRANSITIONS[BoletoStatus(current)]:
        return None
    return target


def shown_status(status: BoletoStatus | str | None, due_date: date, today: date) -> str:
    """The status an operator is shown: the stored one (None: issued), or `overdue` for an open boleto past due."""
    stored = BoletoStatus(status) if status else BoletoStatus.ISSUED
    return OVERDUE if stored in OPEN_STATUSES and due_date < today else stored.value


# The same tables as integer codes, for applying a retorno's million lines with NumPy: STATUS_CODES[i] is status i.
STATUS_CODES: tuple[BoletoStatus, ...] = tuple(BoletoStatus)
_INDEX = {status: index for index, status in enumerate(STATUS_CODES)}
NO_STATUS = -1
# ALLOWED[current, target]: the move is a transition.
ALLOWED = np.zeros((len(STATUS_CODES), len(STATUS_CODES)), dtype=bool)
for _source, _targets in TRANSITIONS.items():
    for _target in _targets:
        ALLOWED[_INDEX[_source], _INDEX[_target]] = True


def status_codes(statuses: np.ndarray) -> np.ndarray:
    """Status values (str; "" or None for issued) -> their index in STATUS_CODES."""
    blank = np.isin(statuses, np.array(["", None], dtype=object))
    values = np.where(blank, BoletoStatus.ISSUED.value, statuses).astype(str)
    codes = np.full(len(values), NO_STATUS, dtype=np.int8)
    for status, index in _INDEX.items():
        codes[values == status.value] = index
    if (codes == NO_STATUS).any():
        raise ValueError(f"unknown boleto status {values[codes == NO_STATUS][0]!r}")
    return codes


def target_codes(events: np.ndarray) -> np.ndarray:
    """Event kinds (str) -> the index of the status each leads to, NO_STATUS for those that lead to none."""
    codes = np.full(len(events), NO_STATUS, dtype=np.int8)
    for event, status in EVENT_STATUS.items():
        codes[events == event.value] = _INDEX[status]
    return codes


def apply_in_order(groups: np.ndarray, current: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fold events into statuses, each boleto's events in the order given.

    `groups` numbers the boletos (equal values are one boleto, consecutive), `current` is each event's boleto's
    status before any of these events and `targets` each event's target (status codes, NO_STATUS for none). Returns
    the status after each event and whether that event moved its boleto.

    >>> sent, registered, paid = (_INDEX[s] for s in (S.REGISTRATION_SENT, S.REGISTERED, S.PAID))
    >>> after, moved = apply_in_order(np.array([0, 0, 1]), np.array([sent, sent, paid]),
    ...                               np.array([registered, paid, registered]))
    >>> [STATUS_CODES[i].value for i in after], moved.tolist()
    (['registered', 'paid', 'paid'], [True, True, False])
    """
    count = len(groups)
    after = np.asarray(current, dtype=np.int8).copy()
    moved = np.zeros(count, dtype=bool)
    if count == 0:
        return after, moved
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    lengths = np.diff(np.r_[starts, count])
    # Round k applies every boleto's k-th event; a retorno rarely names a title more than twice.
    state = after[starts].copy()
    for k in range(int(lengths.max())):
        alive = lengths > k
        rows = starts[alive] + k
        target = targets[rows]
        ok = (target != NO_STATUS) & ALLOWED[state[alive], np.where(target == NO_STATUS, 0, target)]
        new_state = np.where(ok, target, state[alive]).astype(np.int8)
        state[alive] = new_state
        after[rows] = new_state
        moved[rows] = ok
    return after, moved
