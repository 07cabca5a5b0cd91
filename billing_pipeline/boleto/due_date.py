"""The due-date factor: days since 1997-10-07, restarting at 1000 after 9999 (2025-02-22 is factor 1000)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

BASE_DATE = date(1997, 10, 7)
FIRST_FACTOR_DATE = BASE_DATE + timedelta(days=1000)  # 2000-07-03, factor 1000 of the first cycle
CYCLE = 9000
_BASE64 = np.datetime64(BASE_DATE.isoformat(), "D")


def due_date_factor(due: date) -> int:
    days = (due - BASE_DATE).days
    if days < 1000:
        raise ValueError(f"{due} is before {FIRST_FACTOR_DATE}, the first date a factor can express")
    return (days - 1000) % CYCLE + 1000


def due_date_factors(dues: np.ndarray) -> np.ndarray:
    days = (np.asarray(dues, dtype="datetime64[D]") - _BASE64).astype(np.int64)
    if (days < 1000).any():
        raise ValueError(f"due dates before {FIRST_FACTOR_DATE} cannot be expressed by a factor")
    return (days - 1000) % CYCLE + 1000


def due_date_from_factor(factor: int, today: date | None = None) -> date:
    """The date with this factor nearest to `today` (a factor repeats every 9000 days, ~24.6 years)."""
    if not 1000 <= factor <= 9999:
        raise ValueError(f"a due-date factor is 1000..9999, got {factor}")
    today = today or date.today()
    first = BASE_DATE + timedelta(days=factor)
    cycles = round(((today - first).days) / CYCLE)
    return first + timedelta(days=CYCLE * max(cycles, 0))
