"""Files in the format of the public Kanastra challenge: fake 4-digit governmentIds, integer amounts, past due
dates, UUID debtIds (process them with BILLING_GOVERNMENT_ID_POLICY=lenient).

    .venv/bin/python -m bench.kanastra --rows 1100000 -o data/samples/kanastra-1.1M.csv
"""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

FIRST = np.array(["Elijah", "Samuel", "Maria", "Ana", "John", "Laura", "Pedro", "Julia", "Carlos", "Emily"])
LAST = np.array(["Santos", "Orr", "Silva", "Smith", "Souza", "Brown", "Costa", "Lee", "Oliveira", "Garcia"])


def generate(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = np.char.add(np.char.add(FIRST[rng.integers(0, len(FIRST), rows)], " "),
                        LAST[rng.integers(0, len(LAST), rows)])
    users = np.char.add("user", rng.integers(0, 10**6, rows).astype(str))
    due = np.datetime64("2022-01-01") + rng.integers(0, 3 * 365, rows).astype("timedelta64[D]")
    ids = [str(uuid.UUID(bytes=bytes(b), version=4)) for b in rng.integers(0, 256, (rows, 16), dtype=np.uint8)]
    return pd.DataFrame({
        "name": names,
        "governmentId": rng.integers(1000, 10000, rows),
        "email": np.char.add(users, "@example.com"),
        "debtAmount": rng.integers(100, 10000, rows),
        "debtDueDate": np.datetime_as_string(due, unit="D"),
        "debtId": ids,
    })


def write(path: Path, rows: int, seed: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    generate(rows, seed).to_csv(path, index=False, lineterminator="\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    path = write(Path(args.output), args.rows, args.seed)
    print(f"wrote {path} ({args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
