"""Boleto data (nosso número, barcode, linha digitável) for 1M debts, per bank, on one core.

    python -m bench.boleto_numbers [--debts 1000000] [--batch 50000]

Target (issue "Boleto core"): >= 300,000 boletos/s. Batches mirror the pipeline's chunks.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.boleto.vectorized import boleto_numbers, verify_many

ACCOUNTS = {
    "001 Banco do Brasil": BeneficiaryAccount("001", "1234", "", "18", "1234567", "DEMO", "11222333000181"),
    "033 Santander": BeneficiaryAccount("033", "1234", "", "101", "1234567", "DEMO", "11222333000181"),
    "104 Caixa SIGCB": BeneficiaryAccount("104", "1234", "", "", "123456", "DEMO", "11222333000181"),
    "237 Bradesco": BeneficiaryAccount("237", "1172", "0403005", "09", "", "DEMO", "11222333000181"),
    "341 Itaú": BeneficiaryAccount("341", "0057", "12345", "109", "", "DEMO", "11222333000181"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--debts", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    args = parser.parse_args()

    rng = np.random.default_rng(1)
    cents = rng.integers(1_000, 1_000_000, args.debts)
    dues = np.datetime64("2026-12-02") + rng.integers(0, 720, args.debts).astype("timedelta64[D]")
    sequences = np.arange(1, args.debts + 1, dtype=np.int64)

    print(f"{args.debts:,} debts in batches of {args.batch:,}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}")
    print(f"{'bank':<22}{'seconds':>10}{'boletos/s':>14}")
    for label, account in ACCOUNTS.items():
        started = time.perf_counter()
        for start in range(0, args.debts, args.batch):
            stop = start + args.batch
            result = boleto_numbers(account, sequences[start:stop], cents[start:stop], dues[start:stop])
        elapsed = time.perf_counter() - started
        assert verify_many(result.barcode, result.linha_digitavel).all()
        print(f"{label:<22}{elapsed:>10.3f}{args.debts / elapsed:>14,.0f}")


if __name__ == "__main__":
    main()
