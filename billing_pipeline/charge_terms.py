"""Charge terms of a boleto: the fine (multa), the interest (juros de mora) and the early-payment discount.

The resolved terms one boleto carries, printed in its instructions, registered in the remessa (segment P: juros
and discount 1; segment R: multa) and restated by overdue reminders. They come from the beneficiary's policy
(BILLING_FINE_PERCENT, BILLING_INTEREST_MONTHLY_PERCENT, BILLING_DISCOUNT_PERCENT and
BILLING_DISCOUNT_DAYS_BEFORE_DUE, snapshotted when a file is registered), each overridden by a row's own column.

Percents are kept as basis points (1 = 0,01 %): the CNAB fields carry two decimals, and integers compare and sum
exactly. The bank rules a title must meet (FEBRABAN 240, the banks' rejection reasons "data de juros / multa /
desconto inválida", "valor do desconto maior ou igual ao valor do título"):

- the fine and the interest start the day after the due date (a date on or before it is refused);
- the discount's limit date is on or before the due date, and not before the boleto was issued;
- the discount is less than the amount (under 100 %);
- percents have at most 2 decimals; a fine or a monthly interest rate of more than 100 % is refused.

Nothing here computes what a late payer owes: the bank computes what it charges, so the lines state the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

import numpy as np

from billing_pipeline.money import brazilian_amount

BASIS_POINTS = 10_000  # 100 %
MAX_FINE_BASIS_POINTS = BASIS_POINTS
MAX_INTEREST_MONTHLY_BASIS_POINTS = BASIS_POINTS
MAX_DISCOUNT_BASIS_POINTS = BASIS_POINTS - 1  # a discount of the whole amount is refused
INTEREST_DAYS_A_MONTH = 30  # the commercial month the banks divide a monthly rate by


@dataclass(frozen=True, slots=True)
class ChargeTerms:
    fine_basis_points: int = 0  # 200 = 2,00 % of the amount, once, from the day after the due date
    interest_monthly_basis_points: int = 0  # 100 = 1,00 % a month, pro rata by day, from the day after the due date
    discount_basis_points: int = 0  # 500 = 5,00 % off when paid on or before discount_until
    discount_until: date | None = None

    @property
    def any(self) -> bool:
        return bool(self.fine_basis_points or self.interest_monthly_basis_points or self.discount_basis_points)


@dataclass(frozen=True, slots=True)
class ChargePolicy:
    """The beneficiary's terms, as the settings declare them and a file snapshots them when registered."""

    fine_basis_points: int = 0
    interest_monthly_basis_points: int = 0
    discount_basis_points: int = 0
    discount_days_before_due: int = 0

    @classmethod
    def from_percents(cls, fine: Decimal, interest_monthly: Decimal, discount: Decimal,
                      discount_days_before_due: int) -> ChargePolicy:
        """
        >>> ChargePolicy.from_percents(Decimal("2"), Decimal("1.5"), Decimal("0"), 3)
        ChargePolicy(fine_basis_points=200, interest_monthly_basis_points=150, discount_basis_points=0, \
discount_days_before_due=3)
        """
        return cls(basis_points(fine), basis_points(interest_monthly), basis_points(discount),
                   int(discount_days_before_due))

    @classmethod
    def from_settings(cls, settings: PolicySettings) -> ChargePolicy:
        """From billing_pipeline.settings.Settings (a protocol here: the settings module imports the domain)."""
        return cls.from_percents(settings.fine_percent, settings.interest_monthly_percent, settings.discount_percent,
                                 settings.discount_days_before_due)


class PolicySettings(Protocol):
    fine_percent: Decimal
    interest_monthly_percent: Decimal
    discount_percent: Decimal
    discount_days_before_due: int


def policy_snapshot(text: str | None) -> ChargePolicy | None:
    """The policy a file was registered under, as the store hands it back in one column ("fine,interest,discount,
    days"; NULL for a file registered before charge terms existed: its boletos carry none).

    >>> policy_snapshot("200,100,0,3")
    ChargePolicy(fine_basis_points=200, interest_monthly_basis_points=100, discount_basis_points=0, \
discount_days_before_due=3)
    >>> policy_snapshot(None) is None
    True
    """
    if not text:
        return None
    fine, interest, discount, days = (int(part) for part in str(text).split(","))
    return ChargePolicy(fine, interest, discount, days)


def basis_points(percent: Decimal | str | int) -> int:
    """A percent of at most 2 decimals as basis points; more decimals are an error, never rounded away.

    >>> basis_points(Decimal("2")), basis_points("1.5"), basis_points("0.01")
    (200, 150, 1)
    >>> basis_points("1.005")
    Traceback (most recent call last):
    ...
    ValueError: a percent has at most 2 decimals, got 1.005
    """
    value = Decimal(percent) * 100
    if value != value.to_integral_value():
        raise ValueError(f"a percent has at most 2 decimals, got {percent}")
    return int(value)


def percent_text(points: int) -> str:
    """Basis points as a pt-BR percent: 200 -> '2,00%', 12345 -> '123,45%'."""
    return f"{points // 100},{points % 100:02d}%"


def resolve_terms(policy: ChargePolicy | None, due_date: date, issued_on: date, *, fine: int | None = None,
                  interest_monthly: int | None = None, discount: int | None = None,
                  discount_until: date | None = None) -> ChargeTerms:
    """A boleto's terms: each of the row's overrides (None: the file has none there) wins over the policy.

    The policy's discount holds until `discount_days_before_due` days before the boleto's due date (the boleto's,
    not the debt's: it is the date the payer sees). A discount whose limit date has passed when the boleto is
    issued offers nothing and is dropped, as a bank refuses it.

    >>> policy = ChargePolicy(200, 100, 500, 10)
    >>> resolve_terms(policy, date(2026, 12, 20), date(2026, 12, 1))
    ChargeTerms(fine_basis_points=200, interest_monthly_basis_points=100, discount_basis_points=500, \
discount_until=datetime.date(2026, 12, 10))
    >>> resolve_terms(policy, date(2026, 12, 20), date(2026, 12, 1), fine=0, discount_until=date(2026, 12, 15))
    ChargeTerms(fine_basis_points=0, interest_monthly_basis_points=100, discount_basis_points=500, \
discount_until=datetime.date(2026, 12, 15))
    >>> resolve_terms(policy, date(2026, 12, 20), date(2026, 12, 12)).discount_basis_points
    0
    >>> resolve_terms(None, date(2026, 12, 20), date(2026, 12, 1))
    ChargeTerms(fine_basis_points=0, interest_monthly_basis_points=0, discount_basis_points=0, discount_until=None)
    """
    policy = policy or ChargePolicy()
    discount_points = policy.discount_basis_points if discount is None else discount
    until = discount_until or due_date - timedelta(days=policy.discount_days_before_due)
    until = min(until, due_date)
    if not discount_points or until < issued_on:
        discount_points, until_or_none = 0, None
    else:
        until_or_none = until
    return ChargeTerms(
        fine_basis_points=policy.fine_basis_points if fine is None else fine,
        interest_monthly_basis_points=policy.interest_monthly_basis_points if interest_monthly is None
        else interest_monthly,
        discount_basis_points=discount_points,
        discount_until=until_or_none,
    )


def resolve_discounts(points: np.ndarray, own_until: np.ndarray, days_before_due: np.ndarray, due: np.ndarray,
                      issued: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """resolve_terms' discount for many boletos at once (the remessa's titles): (basis points, limit dates as
    datetime64[D], NaT without a discount). `points` are already resolved (the row's, else the policy's);
    `own_until` is NaT where the row has no date of its own.

    >>> points, until = resolve_discounts(np.array([500, 500, 0]), np.array(["NaT", "2026-12-15", "NaT"], "M8[D]"),
    ...     np.array([10, 10, 10]), np.array(["2026-12-20"] * 3, "M8[D]"), np.array(["2026-12-01"] * 3, "M8[D]"))
    >>> points.tolist(), [str(day) for day in until]
    ([500, 500, 0], ['2026-12-10', '2026-12-15', 'NaT'])
    """
    due = np.asarray(due, dtype="datetime64[D]")
    own = np.asarray(own_until, dtype="datetime64[D]")
    policy_until = due - np.asarray(days_before_due, dtype=np.int64).astype("timedelta64[D]")
    until = np.minimum(np.where(np.isnat(own), policy_until, own), due)
    offered = (np.asarray(points) > 0) & (until >= np.asarray(issued, dtype="datetime64[D]"))
    return np.where(offered, points, 0).astype(np.int64), np.where(offered, until, np.datetime64("NaT", "D"))


def bank_problems(terms: ChargeTerms, due_date: date) -> list[str]:
    """What a bank would refuse in these terms (empty: nothing). resolve_terms and the CSV's validation keep every
    stored boleto clear of these; the remessa checks them again before a byte is written.

    >>> bank_problems(ChargeTerms(200, 100, 500, date(2026, 12, 10)), date(2026, 12, 10))
    []
    >>> bank_problems(ChargeTerms(10_001, 0, 10_000, date(2026, 12, 11)), date(2026, 12, 10))  # doctest: +NORMALIZE_WHITESPACE
    ['fine of 100,01% is above 100%', 'discount of 100,00% is not less than the amount',
     'discount until 11/12/2026 is after the due date 10/12/2026']
    """
    problems = []
    if not 0 <= terms.fine_basis_points <= MAX_FINE_BASIS_POINTS:
        problems.append(f"fine of {percent_text(terms.fine_basis_points)} is above 100%")
    if not 0 <= terms.interest_monthly_basis_points <= MAX_INTEREST_MONTHLY_BASIS_POINTS:
        problems.append(f"interest of {percent_text(terms.interest_monthly_basis_points)} a month is above 100%")
    if not 0 <= terms.discount_basis_points <= MAX_DISCOUNT_BASIS_POINTS:
        problems.append(f"discount of {percent_text(terms.discount_basis_points)} is not less than the amount")
    if terms.discount_basis_points and terms.discount_until is None:
        problems.append("a discount without its limit date")
    if terms.discount_until is not None and terms.discount_until > due_date:
        problems.append(f"discount until {terms.discount_until:%d/%m/%Y} is after the due date {due_date:%d/%m/%Y}")
    return problems


def share_cents(amount_cents: int, points: int, divisor: int = 1) -> int:
    """amount x points / 10,000 / divisor, in cents, rounded half up: the value a percent stands for.

    >>> share_cents(100_000, 100, INTEREST_DAYS_A_MONTH), share_cents(10_000, 500), share_cents(1_000, 5)
    (33, 500, 1)
    """
    exact = Decimal(amount_cents) * points / BASIS_POINTS / divisor
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def instruction_lines(terms: ChargeTerms, due_date: date, amount_cents: int) -> tuple[str, ...]:
    """The pt-BR lines the boleto's instructions box and an overdue reminder print for these terms.

    They state the rules, never a total: what a late payment comes to is the bank's to compute.

    >>> for line in instruction_lines(ChargeTerms(200, 100, 500, date(2026, 12, 10)), date(2026, 12, 20), 100_000):
    ...     print(line)
    Após o vencimento, multa de 2,00%.
    Após o vencimento, juros de mora de 1,00% ao mês (R$ 0,33 por dia).
    Até 10/12/2026, desconto de 5,00% (R$ 50,00).
    >>> instruction_lines(ChargeTerms(), date(2026, 12, 20), 100_000)
    ()
    >>> instruction_lines(ChargeTerms(0, 1, 0), date(2026, 12, 20), 1_000)  # under a cent a day: no value shown
    ('Após o vencimento, juros de mora de 0,01% ao mês.',)
    """
    lines = []
    if terms.fine_basis_points:
        lines.append(f"Após o vencimento, multa de {percent_text(terms.fine_basis_points)}.")
    if terms.interest_monthly_basis_points:
        per_day = share_cents(amount_cents, terms.interest_monthly_basis_points, INTEREST_DAYS_A_MONTH)
        lines.append(f"Após o vencimento, juros de mora de {percent_text(terms.interest_monthly_basis_points)} ao mês"
                     f"{_value(per_day, ' por dia')}.")
    if terms.discount_basis_points and terms.discount_until is not None:
        lines.append(f"Até {terms.discount_until:%d/%m/%Y}, desconto de {percent_text(terms.discount_basis_points)}"
                     f"{_value(share_cents(amount_cents, terms.discount_basis_points))}.")
    return tuple(lines)


def _value(cents: int, suffix: str = "") -> str:
    return f" (R$ {brazilian_amount(cents)}{suffix})" if cents else ""


def fine_and_interest_start(due_date: date) -> date:
    """The day a fine and interest apply from: the day after the due date (FEBRABAN: a date after vencimento)."""
    return due_date + timedelta(days=1)
