"""The bank files against the store, on PostgreSQL: a remessa of every boleto of a 1.1M-row file (read from the
store, written, recorded with its states), then the bank's retornos imported: one confirming every entrada (02),
then the headline, one paying every title (06), then that same retorno again.

    .venv/bin/python -m bench.cnab_store [--rows 1100000] [--chunk-rows 100000] [--admin-url URL]

The debts and boletos are made by the stages themselves (register, split, validate, load, boletos; not timed).
The retornos answer every title: T/U pairs made from the remessa's P segments with NumPy (as a bank echoes them),
paid at face value, in lotes of 49,999 titles, written before the clock starts.
Prints lines/s for each step and where its time went (the stages' `seconds`: read, match, write, commit...). The
same retorno again applies nothing (asserted). The target is 200,000 lines/s end to end.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, text

from bench.store import bench_store, store_arguments
from billing_pipeline import stages
from billing_pipeline.sample import write_sample
from billing_pipeline.settings import Settings
from billing_pipeline.statuses import ReceivedVia

TODAY = date(2026, 11, 29)
LOTE_TITLES = 49_999  # record numbers in a lote have 5 digits: 99,998 T/U lines


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    text_values = np.char.zfill(values.astype(str), width)
    return np.frombuffer("".join(text_values.tolist()).encode("ascii"), dtype=np.uint8).reshape(len(values), width)


def paid_retorno(remessa: bytes, paid_on: date, movement: str = "06") -> bytes:
    """A retorno settling (06) every entrada of `remessa` at its face value on `paid_on`; with movement 02, one
    confirming every entrada."""
    lines = np.frombuffer(remessa, dtype=np.uint8).reshape(-1, 242)[:, :240]
    p = lines[(lines[:, 7] == ord("3")) & (lines[:, 13] == ord("P")) & (lines[:, 16] == ord("1"))]
    count = len(p)
    day = np.frombuffer(paid_on.strftime("%d%m%Y").encode(), dtype=np.uint8)
    t = np.full((count, 240), ord(" "), dtype=np.uint8)
    u = np.full((count, 240), ord(" "), dtype=np.uint8)
    for segment, letter in ((t, "T"), (u, "U")):
        segment[:, 0:3] = p[:, 0:3]
        segment[:, 7] = ord("3")
        segment[:, 13] = ord(letter)
        segment[:, 15:17] = np.frombuffer(movement.encode(), dtype=np.uint8)
    t[:, 17:57] = p[:, 17:57]  # account and nosso número, echoed
    t[:, 57] = ord("1")
    t[:, 58:73] = p[:, 62:77]  # seu número
    t[:, 73:96] = p[:, 77:100]  # vencimento, valor
    t[:, 96:105] = ord("0")
    t[:, 105:130] = p[:, 195:220]  # uso da empresa
    t[:, 130:132] = np.frombuffer(b"09", dtype=np.uint8)
    t[:, 132:148] = ord("0")
    t[:, 198:213] = ord("0")
    u[:, 17:180] = ord("0")
    u[:, 77:92] = p[:, 85:100]  # valor pago = valor nominal
    u[:, 92:107] = p[:, 85:100]
    u[:, 137:145] = day
    u[:, 145:153] = day
    header = lines[0].copy()
    header[142] = ord("2")
    parts = [header[None, :]]
    lotes = 0
    for start in range(0, count, LOTE_TITLES):
        lotes += 1
        size = min(LOTE_TITLES, count - start)
        lote = np.frombuffer(f"{lotes:04d}".encode(), dtype=np.uint8)
        block = np.empty((2 * size + 2, 240), dtype=np.uint8)
        block[0] = lines[1]
        block[0, 8] = ord("T")
        block[1:-1:2] = t[start:start + size]
        block[2:-1:2] = u[start:start + size]
        block[1:-1, 8:13] = _digits(np.arange(1, 2 * size + 1), 5)
        block[-1] = ord(" ")
        block[-1, 0:3] = p[0, 0:3]
        block[-1, 7] = ord("5")
        block[-1, 17:23] = _digits(np.array([2 * size + 2]), 6)[0]
        block[:, 3:7] = lote
        parts.append(block)
    trailer = np.full((1, 240), ord(" "), dtype=np.uint8)
    trailer[0, 0:3] = p[0, 0:3]
    trailer[0, 3:8] = np.frombuffer(b"99999", dtype=np.uint8)
    trailer[0, 17:23] = _digits(np.array([lotes]), 6)[0]
    total = sum(len(part) for part in parts) + 1
    trailer[0, 23:29] = _digits(np.array([total]), 6)[0]
    trailer[0, 29:35] = ord("0")
    parts.append(trailer)
    matrix = np.concatenate(parts)
    out = np.empty((len(matrix), 242), dtype=np.uint8)
    out[:, :240] = matrix
    out[:, 240:] = np.frombuffer(b"\r\n", dtype=np.uint8)
    return out.tobytes()


Result = tuple[str, int, float, dict[str, float]]


def run(admin_url: str, rows: int, chunk_rows: int) -> list[Result]:
    with bench_store(admin_url, chunk_rows) as (settings, engine, work):
        source = work / "debts.csv"
        write_sample(source, rows=rows, seed=17, with_address=True)
        started = time.perf_counter()
        registration = stages.register_stage(engine, settings, source)
        for key in stages.split_stage(engine, settings, registration.file_id).chunk_keys:
            validation = stages.validate_stage(engine, settings, key)
            stages.load_stage(engine, settings, key, validation.accepted)
            stages.boleto_stage(engine, settings, key, TODAY)
        with engine.begin() as connection:
            # The demo bank rejects a title without an address: give every payer one, so that all are paid.
            connection.execute(text(
                "UPDATE debts SET payer_address = 'RUA DAS FLORES 10', payer_district = 'CENTRO',"
                " payer_zip_code = '01001000', payer_city = 'SAO PAULO', payer_state = 'SP'"
                " WHERE payer_address IS NULL OR payer_zip_code IS NULL"))
        print(f"setup: {rows:,} debts and boletos stored in {time.perf_counter() - started:.1f} s")
        return lifecycle_steps(engine, settings, work)


def _analyze(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


def lifecycle_steps(engine: Engine, settings: Settings, work: Path) -> list[Result]:
    """The timed steps, on a store whose boletos were never sent."""
    results: list[Result] = []
    _analyze(engine)
    started = time.perf_counter()
    remessa = stages.remessa_stage(engine, settings)
    seconds = time.perf_counter() - started
    results.append((f"remessa ({len(remessa.files)} files, {remessa.titles:,} titles)", remessa.lines, seconds,
                    remessa.seconds))

    files = [part.path.read_bytes() for part in remessa.files]
    for movement, step in (("02", "retorno confirming every entrada (02)"), ("06", "retorno paying every title (06)")):
        retornos = []
        for number, data in enumerate(files):
            answer = paid_retorno(data, TODAY, movement)
            path = work / f"retorno-{movement}-{number}.ret"
            path.write_bytes(answer)
            retornos.append((path, answer.count(b"\n")))
        lines = sum(count for _, count in retornos)
        _analyze(engine)
        started = time.perf_counter()
        ids = [stages.register_retorno(engine, settings, path, received_via=ReceivedVia.PROCESS).file_id
               for path, _ in retornos]
        outcomes = [stages.retorno_stage(engine, settings, file_id) for file_id in ids]
        seconds = time.perf_counter() - started
        titles = sum(outcome.titles for outcome in outcomes)
        results.append((f"{step} ({len(ids)} files, {titles:,} titles)", lines, seconds, _phases(outcomes)))
        print(f"{step}: by status", {k: sum(o.by_status.get(k, 0) for o in outcomes) for k in outcomes[0].by_status})

    started = time.perf_counter()
    again = [stages.retorno_stage(engine, settings, file_id) for file_id in ids]
    seconds = time.perf_counter() - started
    assert sum(outcome.applied for outcome in again) == 0
    results.append(("the same paying retorno again (nothing applied)", lines, seconds, _phases(again)))
    return results


def _phases(outcomes: list[stages.RetornoOutcome]) -> dict[str, float]:
    phases: dict[str, float] = {}
    for outcome in outcomes:
        for phase, seconds in outcome.seconds.items():
            phases[phase] = phases.get(phase, 0.0) + seconds
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    store_arguments(parser, rows=1_100_000)
    args = parser.parse_args()
    results = run(args.admin_url, args.rows, args.chunk_rows)
    print_results(results)


def print_results(results: list[Result]) -> None:
    print("| step | lines | seconds | lines/s | by phase (s) |")
    print("| --- | ---: | ---: | ---: | --- |")
    for step, lines, seconds, phases in results:
        shown = ", ".join(f"{phase} {value:.2f}" for phase, value in phases.items())
        print(f"| {step} | {lines:,} | {seconds:.2f} | {lines / seconds:,.0f} | {shown} |")


if __name__ == "__main__":
    main()
