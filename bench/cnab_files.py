"""CNAB 240 files, pure parse/write speed: a remessa of 1.1M titles written and read back, and its simulated
retorno read, per bank, on one core.

    python -m bench.cnab_files [--titles 1100000] [--bank 341]

A remessa holds at most `MAX_TITLES_PER_FILE` titles (the trailer counts lines in 6 digits), so 1.1M titles are
several files; the figures are for all of them. Target (issue 17): well over 200,000 lines/s writing, and a
retorno of 1.1M paid titles read in a few seconds.
"""

from __future__ import annotations

import argparse
import io
import platform
import time
from datetime import date, datetime

import numpy as np
import pandas as pd

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.cnab.identifiers import company_use, seu_numero
from billing_pipeline.cnab.reader import read_cnab
from billing_pipeline.cnab.remessa import MAX_TITLES_PER_FILE, write_remessa
from billing_pipeline.cnab.simulate import simulate_retorno

ACCOUNTS = {
    "001": BeneficiaryAccount("001", "1234", "00061900", "17", "1234567", "DEMO", "11222333000181"),
    "033": BeneficiaryAccount("033", "1234", "13001234", "101", "1234567", "DEMO", "11222333000181"),
    "104": BeneficiaryAccount("104", "1234", "", "", "123456", "DEMO", "11222333000181"),
    "237": BeneficiaryAccount("237", "1172", "0403005", "09", "", "DEMO", "11222333000181"),
    "341": BeneficiaryAccount("341", "0057", "12345", "109", "", "DEMO", "11222333000181"),
}


def titles(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    sequences = np.arange(1, n + 1, dtype=np.int64)
    first = np.array(["José", "Maria", "João", "Ana", "Antônio", "Francisca", "Luís", "Márcia"])
    last = np.array(["da Silva", "Conceição", "Gonçalves", "Araújo", "Müller", "Pereira Lima"])
    names = pd.Series(rng.choice(first, n)) + " " + pd.Series(rng.choice(last, n))
    streets = pd.Series(rng.choice(np.array(["Rua São João", "Av. Paulista", "Travessa Érico"]), n))
    return pd.DataFrame({
        "movement": np.where(rng.random(n) < 0.02, "02", "01"),
        "sequence": sequences,
        "document_number": seu_numero(sequences),
        "company_use": company_use(np.array([f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(n)])),
        "due_date": np.datetime64("2026-06-01") + rng.integers(0, 90, n).astype("timedelta64[D]"),
        "issued_on": np.full(n, np.datetime64("2026-05-20")),
        "amount_cents": rng.integers(1_000, 10_000_000, n),
        "payer_document": np.where(rng.random(n) < 0.8, "12345678909", "11222333000181"),
        "payer_name": names,
        "address": streets + ", " + pd.Series(rng.integers(1, 5000, n)).astype(str),
        "district": "Centro",
        "cep": "01001000",
        "city": "São Paulo",
        "uf": "SP",
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--titles", type=int, default=1_100_000)
    parser.add_argument("--bank", default="341", choices=sorted(ACCOUNTS))
    args = parser.parse_args()
    frame = titles(args.titles)
    account = ACCOUNTS[args.bank]
    print(f"{args.titles:,} titles, bank {args.bank}; {platform.processor() or platform.machine()}")

    started = time.perf_counter()
    files, lines = [], 0
    for nsa, start in enumerate(range(0, len(frame), MAX_TITLES_PER_FILE), 1):
        out = io.BytesIO()
        lines += write_remessa(out, account, nsa, datetime(2026, 5, 20, 8), frame.iloc[start:start +
                                                                                       MAX_TITLES_PER_FILE]).lines
        files.append(out.getvalue())
    elapsed = time.perf_counter() - started
    print(f"write remessa: {lines:,} lines in {len(files)} files, {elapsed:.2f} s, {lines / elapsed:,.0f} lines/s")

    started = time.perf_counter()
    read = sum(len(read_cnab(data).titles) for data in files)
    elapsed = time.perf_counter() - started
    print(f"read remessa:  {read:,} titles, {lines / elapsed:,.0f} lines/s ({elapsed:.2f} s)")

    retornos = [simulate_retorno(data, paid=1.0, rejected=0.0, paid_on=date(2026, 6, 1)) for data in files]
    retorno_lines = sum(data.count(b"\n") for data in retornos)
    started = time.perf_counter()
    settled = sum(int((read_cnab(data).titles["movement_code"] == "06").sum()) for data in retornos)
    elapsed = time.perf_counter() - started
    print(f"read retorno:  {retorno_lines:,} lines ({settled:,} liquidações), {elapsed:.2f} s, "
          f"{retorno_lines / elapsed:,.0f} lines/s")


if __name__ == "__main__":
    main()
