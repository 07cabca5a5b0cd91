"""Boletos to send to the bank, and retornos as a bank would write them, built by the tests from FEBRABAN 240
positions (not by our CNAB code), so that the store's reading of a retorno is checked against the manual rather
than against itself.

    stored = boletos_of_sample(engine, settings, tmp_path, rows=300, seed=3)   # debts with addresses -> boletos

    titles = remessa_titles(remessa_bytes)                      # the P lines, as the bank reads them
    answers = [Answer(titles[0], "02"), Answer(titles[0], "06", paid_cents=1050, paid_on=date(2026, 1, 5))]
    retorno = build_retorno(remessa_bytes, answers, nsa=1)

The bank echoes what it was sent: the account fields (T 18-37) and nosso número (T 38-57) are copied from the P
segment, the seu número, due date, amount and uso da empresa from where the P has them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from billing_pipeline.ingest.inbox import sha256_of
from billing_pipeline.sample import write_sample
from billing_pipeline.settings import Settings
from billing_pipeline_tests.support.files import SampleFile, StoredSample, store_sample

WIDTH = 240
TODAY = date(2026, 1, 2)  # the boletos' issue date in these tests


def boletos_of_sample(engine: Engine, settings: Settings, folder: Path, rows: int, seed: int,
                      with_address: bool = True) -> StoredSample:
    """A sample file of `rows` valid debts (about one in ten without an address) stored through `boletos`."""
    path = folder / f"debts-{seed}.csv"
    injected = write_sample(path, rows=rows, seed=seed, with_address=with_address)
    return store_sample(engine, settings, SampleFile(path, rows, injected, sha256_of(path)), through="boletos",
                        today=TODAY)


@dataclass(frozen=True)
class RemessaTitle:
    line_number: int  # of the P segment
    movement: str  # 01 entrada, 02 baixa
    account_fields: str  # P 18-37
    nosso_numero_field: str  # P 38-57, as the bank's module formatted it
    document_number: str  # P 63-77
    due_date: str  # P 78-85, DDMMAAAA
    amount_cents: int  # P 86-100
    company_use: str  # P 196-220


@dataclass(frozen=True)
class Answer:
    title: RemessaTitle
    movement_code: str  # C044
    reasons: str = ""  # C047 codes, 2 characters each (T 214-223)
    paid_cents: int | None = None
    credited_cents: int | None = None
    fee_cents: int = 0
    interest_cents: int = 0
    paid_on: date | None = None
    credited_on: date | None = None
    nosso_numero_field: str | None = None  # another nosso número than the title's (an unknown title)
    company_use: str | None = None


def _lines(data: bytes) -> list[str]:
    return [line.decode("latin-1").ljust(WIDTH)[:WIDTH] for line in data.splitlines() if line.strip()]


def _field(line: str, start: int, end: int) -> str:
    return line[start - 1:end]


def _put(line: str, start: int, end: int, value: str) -> str:
    width = end - start + 1
    assert len(value) <= width, (value, width)
    return line[:start - 1] + value + line[end:]


def _number(value: int, width: int) -> str:
    return str(int(value)).zfill(width)


def _date(day: date | None) -> str:
    return day.strftime("%d%m%Y") if day else "00000000"


def remessa_titles(remessa: bytes) -> list[RemessaTitle]:
    titles = []
    for number, line in enumerate(_lines(remessa), start=1):
        if line[7] == "3" and line[13] == "P":
            titles.append(RemessaTitle(number, _field(line, 16, 17), _field(line, 18, 37), _field(line, 38, 57),
                                       _field(line, 63, 77), _field(line, 78, 85), int(_field(line, 86, 100)),
                                       _field(line, 196, 220)))
    return titles


def build_retorno(remessa: bytes, answers: list[Answer], nsa: int, generated_on: date = date(2026, 1, 20),
                  line_end: str = "\r\n") -> bytes:
    """A retorno of one lote answering `answers` in the order given (a T and a U line each)."""
    lines = _lines(remessa)
    bank = lines[0][:3]
    header = _put(lines[0], 143, 143, "2")
    header = _put(header, 144, 151, _date(generated_on))
    header = _put(header, 158, 163, _number(nsa, 6))
    lote_header = _put(lines[1], 9, 9, "T")
    lote_header = _put(lote_header, 184, 191, _number(nsa, 8))
    details = []
    for index, answer in enumerate(answers):
        title = answer.title
        t = " " * WIDTH
        t = _put(t, 1, 3, bank)
        t = _put(t, 4, 7, "0001")
        t = _put(t, 8, 8, "3")
        t = _put(t, 9, 13, _number(2 * index + 1, 5))
        t = _put(t, 14, 14, "T")
        t = _put(t, 16, 17, answer.movement_code)
        t = _put(t, 18, 37, title.account_fields)
        t = _put(t, 38, 57, answer.nosso_numero_field or title.nosso_numero_field)
        t = _put(t, 58, 58, "1")
        t = _put(t, 59, 73, title.document_number)
        t = _put(t, 74, 81, title.due_date)
        t = _put(t, 82, 96, _number(title.amount_cents, 15))
        t = _put(t, 97, 105, bank + "000000")
        t = _put(t, 106, 130, (answer.company_use if answer.company_use is not None else title.company_use).ljust(25))
        t = _put(t, 131, 132, "09")
        t = _put(t, 133, 148, "0" * 16)
        t = _put(t, 199, 213, _number(answer.fee_cents, 15))
        t = _put(t, 214, 223, answer.reasons.ljust(10))
        u = " " * WIDTH
        u = _put(u, 1, 3, bank)
        u = _put(u, 4, 7, "0001")
        u = _put(u, 8, 8, "3")
        u = _put(u, 9, 13, _number(2 * index + 2, 5))
        u = _put(u, 14, 14, "U")
        u = _put(u, 16, 17, answer.movement_code)
        u = _put(u, 18, 32, _number(answer.interest_cents, 15))
        u = _put(u, 33, 77, "0" * 45)
        u = _put(u, 78, 92, _number(answer.paid_cents or 0, 15))
        credited = answer.credited_cents if answer.credited_cents is not None else (
            (answer.paid_cents or 0) - answer.fee_cents if answer.paid_cents else 0)
        u = _put(u, 93, 107, _number(credited, 15))
        u = _put(u, 108, 137, "0" * 30)
        u = _put(u, 138, 145, _date(answer.paid_on))
        u = _put(u, 146, 153, _date(answer.credited_on or answer.paid_on))
        u = _put(u, 154, 180, "0" * 27)
        details += [t, u]
    trailer_lote = " " * WIDTH
    trailer_lote = _put(trailer_lote, 1, 8, bank + "00015")
    trailer_lote = _put(trailer_lote, 18, 23, _number(len(details) + 2, 6))
    trailer_lote = _put(trailer_lote, 24, 115, "0" * 92)
    trailer = " " * WIDTH
    trailer = _put(trailer, 1, 8, bank + "99999")
    trailer = _put(trailer, 18, 23, _number(1, 6))
    trailer = _put(trailer, 24, 29, _number(len(details) + 4, 6))
    trailer = _put(trailer, 30, 35, "000000")
    every = [header, lote_header, *details, trailer_lote, trailer]
    assert all(len(line) == WIDTH for line in every)
    return (line_end.join(every) + line_end).encode("latin-1")
