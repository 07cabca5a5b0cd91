"""Realistic input files: valid CPFs/CNPJs, Brazilian names, cents, UUIDs, and optional deliberate errors.

Generation is vectorised (NumPy), so a 1.1M-row file takes seconds. The same seed gives the same bytes.

`with_address=True` adds the optional payer address columns (address, district, zipCode, city, state): a street
and number in one of the 27 capitals (or Campinas), with a CEP inside that city's range, some written without the
dash; about one row in ten has no address at all. The other columns are the same as without them, seed for seed.

`with_terms=True` adds the optional charge terms columns (finePercent, interestMonthlyPercent, discountPercent,
discountUntil): about a third of the rows set terms of their own (a 2% fine, 1% a month, a 5% discount until a few
days before the due date, in several spellings), the others leave them empty and take the beneficiary's policy.
Their own generator again: the other columns stay what the seed gives without them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from billing_pipeline.rejects import RejectCode

FIRST_NAMES = (
    "Ana", "Beatriz", "Bruno", "Camila", "Carlos", "Daniela", "Eduardo", "Fernanda", "Gabriel", "Helena",
    "Igor", "Juliana", "João", "Larissa", "Lucas", "Mariana", "Mateus", "Natália", "Otávio", "Paula",
    "Pedro", "Rafael", "Renata", "Rodrigo", "Sofia", "Thiago", "Valéria", "Vinícius", "Yasmin", "Zé",
)
SURNAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
    "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira", "Barbosa",
    "Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques", "Machado", "Mendes", "Freitas",
)
DOMAINS = ("example.com", "example.com.br", "example.net", "example.org")
DUE_DATE_ANCHOR = date(2026, 1, 1)

# (city, UF, first CEP, last CEP): every UF's capital, plus Campinas; the ranges are the cities' own.
CITIES = (
    ("São Paulo", "SP", 1_000_000, 5_999_999), ("Campinas", "SP", 13_000_000, 13_139_999),
    ("Rio de Janeiro", "RJ", 20_000_000, 23_799_999), ("Belo Horizonte", "MG", 30_000_000, 31_999_999),
    ("Vitória", "ES", 29_000_000, 29_099_999), ("Salvador", "BA", 40_000_000, 42_599_999),
    ("Aracaju", "SE", 49_000_000, 49_098_999), ("Maceió", "AL", 57_000_000, 57_099_999),
    ("Recife", "PE", 50_000_000, 52_999_999), ("João Pessoa", "PB", 58_000_000, 58_099_999),
    ("Natal", "RN", 59_000_000, 59_139_999), ("Fortaleza", "CE", 60_000_000, 61_599_999),
    ("Teresina", "PI", 64_000_000, 64_099_999), ("São Luís", "MA", 65_000_000, 65_109_999),
    ("Belém", "PA", 66_000_000, 66_999_999), ("Macapá", "AP", 68_900_000, 68_914_999),
    ("Manaus", "AM", 69_000_000, 69_099_999), ("Boa Vista", "RR", 69_300_000, 69_339_999),
    ("Rio Branco", "AC", 69_900_000, 69_923_999), ("Brasília", "DF", 70_000_000, 72_799_999),
    ("Goiânia", "GO", 74_000_000, 74_899_999), ("Palmas", "TO", 77_000_000, 77_249_999),
    ("Cuiabá", "MT", 78_000_000, 78_109_999), ("Campo Grande", "MS", 79_000_000, 79_124_999),
    ("Porto Velho", "RO", 76_800_000, 76_834_999), ("Curitiba", "PR", 80_000_000, 82_999_999),
    ("Florianópolis", "SC", 88_000_000, 88_099_999), ("Porto Alegre", "RS", 90_000_000, 91_999_999),
)
STREET_KINDS = ("Rua", "Rua", "Rua", "Avenida", "Travessa", "Alameda", "Praça")
STREET_NAMES = (
    "das Flores", "Sete de Setembro", "XV de Novembro", "Dom Pedro II", "Getúlio Vargas", "Tiradentes",
    "São João", "Marechal Deodoro", "Rui Barbosa", "Santos Dumont", "Barão do Rio Branco", "Duque de Caxias",
    "Presidente Juscelino Kubitschek de Oliveira", "Padre Anchieta", "das Palmeiras", "José Bonifácio",
)
COMPLEMENTS = ("", "", "", "", " apto 12", " apto 301", " casa 2", " sala 1204", " bloco B apto 44", " fundos")
DISTRICTS = (
    "Centro", "Centro", "Jardim América", "Vila Nova", "Boa Vista", "Santa Cecília", "Bela Vista", "Liberdade",
    "São José", "Cidade Nova", "Planalto", "Santo Antônio", "Jardim das Acácias", "Nossa Senhora das Graças",
)
ADDRESS_COLUMNS = ("address", "district", "zipCode", "city", "state")

# Each deliberate error and the reject code it must produce.
ERROR_KINDS = (
    RejectCode.INVALID_EMAIL,
    RejectCode.INVALID_GOVERNMENT_ID,
    RejectCode.AMOUNT_NOT_POSITIVE,
    RejectCode.AMOUNT_TOO_PRECISE,
    RejectCode.INVALID_DUE_DATE,
    RejectCode.INVALID_DEBT_ID,
    RejectCode.MISSING_VALUE,
    RejectCode.INVALID_AMOUNT,
    RejectCode.AMOUNT_TOO_LARGE,
    RejectCode.DUPLICATE_CONFLICT,
)
ADDRESS_ERROR_KINDS = (RejectCode.INVALID_ZIP_CODE, RejectCode.INVALID_STATE)
TERMS_COLUMNS = ("finePercent", "interestMonthlyPercent", "discountPercent", "discountUntil")
TERMS_ERROR_KINDS = (RejectCode.INVALID_FINE, RejectCode.INVALID_INTEREST, RejectCode.INVALID_DISCOUNT)


@dataclass(frozen=True)
class InjectedError:
    line_number: int
    code: RejectCode


def _check_digit(digits: np.ndarray, weights: list[int]) -> np.ndarray:
    remainder = (digits * np.array(weights)).sum(axis=1) % 11
    return np.where(remainder < 2, 0, 11 - remainder)


def cpfs(rng: np.random.Generator, count: int) -> np.ndarray:
    base = rng.integers(0, 10, size=(count, 9))
    base[:, 0] = rng.integers(1, 10, size=count)  # no all-equal-digit numbers (those are invalid CPFs)
    base[:, 1] = (base[:, 0] + 1 + rng.integers(0, 9, size=count)) % 10
    first = _check_digit(base, list(range(10, 1, -1)))
    digits = np.column_stack([base, first])
    second = _check_digit(digits, list(range(11, 1, -1)))
    return _join(np.column_stack([digits, second]))


def cnpjs(rng: np.random.Generator, count: int) -> np.ndarray:
    base = np.column_stack([rng.integers(0, 10, size=(count, 8)), np.tile([0, 0, 0, 1], (count, 1))])
    base[:, 0] = rng.integers(1, 10, size=count)
    first = _check_digit(base, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    digits = np.column_stack([base, first])
    second = _check_digit(digits, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    return _join(np.column_stack([digits, second]))


def _join(digits: np.ndarray) -> np.ndarray:
    return (digits + ord("0")).astype(np.uint8).view(f"S{digits.shape[1]}").ravel().astype(str)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _uuids(rng: np.random.Generator, count: int) -> list[str]:
    raw = rng.integers(0, 256, size=(count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexes = [bytes(row).hex() for row in raw]
    return [f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" for h in hexes]


def payer_addresses(rng: np.random.Generator, count: int) -> pd.DataFrame:
    """ADDRESS_COLUMNS for `count` payers; about 10% of the rows are all empty (no address known).

    No commas in the street: such a file stays on the records reader's vectorised path (no quoted fields). Built
    in Arrow (take + join): pandas' str.cat is ~10x slower at a million rows.
    """

    def pick(values: tuple[str, ...]) -> pa.Array:
        return pa.array(values).take(pa.array(rng.integers(0, len(values), count)))

    city = pa.array(rng.integers(0, len(CITIES), count))
    names, states, first, last = (np.array(values) for values in zip(*CITIES, strict=True))
    ceps = rng.integers(first[city], last[city] + 1)
    digits = pc.utf8_lpad(pc.cast(pa.array(ceps), pa.string()), 8, "0")
    dashed = pc.binary_join_element_wise(pc.utf8_slice_codeunits(digits, 0, 5),
                                         pc.utf8_slice_codeunits(digits, 5, 8), "-")
    zip_codes = pc.if_else(pa.array(rng.random(count) < 0.8), dashed, digits)
    number = pc.cast(pa.array(rng.integers(1, 4000, count)), pa.string())
    street = pc.binary_join_element_wise(pick(STREET_KINDS), pick(STREET_NAMES), number, " ")
    street = pc.binary_join_element_wise(street, pick(COMPLEMENTS), "")
    unknown = pa.array(rng.random(count) < 0.1)
    columns = {
        "address": street,
        "district": pick(DISTRICTS),
        "zipCode": zip_codes,
        "city": pa.array(names).take(city),
        "state": pa.array(states).take(city),
    }
    return pd.DataFrame(
        {name: pc.if_else(unknown, "", values).to_numpy(zero_copy_only=False) for name, values in columns.items()}
    )


def charge_terms(rng: np.random.Generator, due_dates: pd.Series) -> pd.DataFrame:
    """TERMS_COLUMNS for debts due on `due_dates` (YYYY-MM-DD): about a third with terms of their own, each column
    set or left empty on its own (an empty one takes the policy's); a discount's date 0-10 days before the due."""
    count = len(due_dates)
    own = rng.random(count) < 0.35

    def some(values: tuple[str, ...], share: float) -> np.ndarray:
        picked = np.array(values, dtype=object)[rng.integers(0, len(values), count)]
        return np.where(own & (rng.random(count) < share), picked, "")

    discount = some(("5", "5.00", "2.5", "10"), 0.6)
    before = pd.to_timedelta(rng.integers(0, 11, count), unit="D")
    until = (pd.to_datetime(due_dates.to_numpy()) - before).strftime("%Y-%m-%d").to_numpy(dtype=object)
    dated = (discount != "") & (rng.random(count) < 0.7)
    return pd.DataFrame({
        "finePercent": some(("2", "2.00", "1.5", "0"), 0.8),
        "interestMonthlyPercent": some(("1", "1.00", "0.99", "2"), 0.8),
        "discountPercent": discount,
        "discountUntil": np.where(dated, until, ""),
    }).astype(object)


def generate(
    rows: int, seed: int, invalid_rate: float = 0.0, *, with_address: bool = False, with_terms: bool = False
) -> tuple[pd.DataFrame, list[InjectedError]]:
    if rows < 0:
        raise ValueError("rows must be zero or more")
    if not 0.0 <= invalid_rate <= 1.0:
        raise ValueError("invalid rate must be between 0 and 1")
    rng = np.random.default_rng(seed)
    first = rng.choice(np.array(FIRST_NAMES), rows)
    last = rng.choice(np.array(SURNAMES), rows)
    names = pd.Series(first).str.cat(pd.Series(last), sep=" ")

    is_company = rng.random(rows) < 0.1
    ids = np.where(is_company, cnpjs(rng, rows), cpfs(rng, rows)).astype(object)
    punctuated = rng.random(rows) < 0.3
    for index in np.flatnonzero(punctuated):
        value = ids[index]
        ids[index] = (
            f"{value[:3]}.{value[3:6]}.{value[6:9]}-{value[9:]}" if len(value) == 11
            else f"{value[:2]}.{value[2:5]}.{value[5:8]}/{value[8:12]}-{value[12:]}"
        )

    ascii_first = {n: _ascii(n) for n in FIRST_NAMES}
    ascii_last = {n: _ascii(n) for n in SURNAMES}
    serial = rng.integers(1, 10_000, rows)
    domain = rng.choice(np.array(DOMAINS), rows)
    emails = [f"{ascii_first[f]}.{ascii_last[s]}{n}@{d}" for f, s, n, d in zip(first, last, serial, domain, strict=True)]

    cents = rng.integers(1_000, 5_000_000, rows)
    whole = rng.random(rows) < 0.3
    cents = np.where(whole, cents // 100 * 100, cents)
    amounts = [f"{c // 100}" if w else f"{c // 100}.{c % 100:02d}" for c, w in zip(cents, whole, strict=True)]
    due = pd.to_datetime(DUE_DATE_ANCHOR) + pd.to_timedelta(rng.integers(0, 730, rows), unit="D")

    frame = pd.DataFrame(
        {
            "name": names.to_numpy(dtype=object),
            "governmentId": ids,
            "email": emails,
            "debtAmount": amounts,
            "debtDueDate": due.strftime("%Y-%m-%d").to_numpy(dtype=object),
            "debtId": _uuids(rng, rows),
        }
    ).astype(object)
    kinds: tuple[RejectCode, ...] = ERROR_KINDS
    if with_address:  # drawn from a generator of their own: the other columns stay what this seed gives without
        frame = pd.concat([frame, payer_addresses(np.random.default_rng([seed, 1]), rows).astype(object)], axis=1)
        kinds = ERROR_KINDS + ADDRESS_ERROR_KINDS
    if with_terms:
        frame = pd.concat([frame, charge_terms(np.random.default_rng([seed, 2]), frame["debtDueDate"])], axis=1)
        kinds = kinds + TERMS_ERROR_KINDS
    return frame, _inject_errors(frame, rng, invalid_rate, kinds)


def _inject_errors(
    frame: pd.DataFrame, rng: np.random.Generator, rate: float, kinds: tuple[RejectCode, ...] = ERROR_KINDS
) -> list[InjectedError]:
    count = min(round(len(frame) * rate), len(frame) // 2)
    if count == 0:
        return []
    positions = rng.choice(len(frame), size=2 * count, replace=False)
    targets, sources = positions[:count], positions[count:]
    injected: list[InjectedError] = []
    for number, (row, source) in enumerate(zip(targets, sources, strict=True)):
        code = kinds[number % len(kinds)]
        column, value = {
            RejectCode.INVALID_EMAIL: ("email", "not-an-email"),
            RejectCode.INVALID_GOVERNMENT_ID: ("governmentId", "12345678900"),
            RejectCode.AMOUNT_NOT_POSITIVE: ("debtAmount", "-15.00"),
            RejectCode.AMOUNT_TOO_PRECISE: ("debtAmount", "10.123"),
            RejectCode.INVALID_DUE_DATE: ("debtDueDate", "2025-02-30"),
            RejectCode.INVALID_DEBT_ID: ("debtId", f"not-a-uuid-{row}"),
            RejectCode.MISSING_VALUE: ("name", ""),
            RejectCode.INVALID_AMOUNT: ("debtAmount", "12,50"),
            RejectCode.AMOUNT_TOO_LARGE: ("debtAmount", "100000000.00"),
            RejectCode.DUPLICATE_CONFLICT: ("debtId", str(frame.at[source, "debtId"])),
            RejectCode.INVALID_ZIP_CODE: ("zipCode", "1310-100"),  # a spreadsheet ate the leading zero
            RejectCode.INVALID_STATE: ("state", "XX"),
            RejectCode.INVALID_FINE: ("finePercent", "150"),
            RejectCode.INVALID_INTEREST: ("interestMonthlyPercent", "1.005"),
            RejectCode.INVALID_DISCOUNT: ("discountPercent", "100"),
        }[code]
        frame.at[row, column] = value
        injected.append(InjectedError(int(row) + 2, code))
        if code is RejectCode.DUPLICATE_CONFLICT:  # every copy of a conflicting debtId is rejected
            injected.append(InjectedError(int(source) + 2, code))
    # a source row may itself have been chosen as a target: keep one entry per (line, code)
    return sorted(set(injected), key=lambda e: (e.line_number, e.code))


def write_sample(
    path: Path, rows: int, seed: int, invalid_rate: float = 0.0, *, with_address: bool = False,
    with_terms: bool = False,
) -> list[InjectedError]:
    frame, injected = generate(rows, seed, invalid_rate, with_address=with_address, with_terms=with_terms)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")
    return injected
