"""A demo bank: the retorno a bank could send back for a remessa Smart Billing wrote. A SIMULATION, never a bank's.

Every file it writes says so where a reader of the file looks first: the header arquivo's bank name (103-132) is
"SIMULACAO SMART BILLING" (`reader.SIMULATION_MARK`; `CnabFile.simulated` is True).

`planned_outcomes` decides, deterministically for a seed, what happens to each title of the remessa:

- an entrada (01) whose payer has no CEP or no address is rejected (03) with FEBRABAN C047 48 "CEP inválido" or
  47 "endereço do pagador não informado"; a `rejected` fraction of the others too, with a reason picked from
  `REJECTION_REASONS`;
- the other entradas are confirmed (02), and a `paid` fraction of them is also settled (06) on `paid_on`,
  credited the next day, less `FEE_CENTS` of tarifa; a `different_amount` fraction of those is paid with interest
  or a discount (1 to 10% of the face value, either way);
- a baixa (02) is written off (09, reason 10 "comandada cliente arquivo").

`simulate_retorno` writes exactly that plan as T/U pairs (one lote; header arquivo kind 2, same account and NSA).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from types import ModuleType

import numpy as np
import pandas as pd

from billing_pipeline.boleto.account import BeneficiaryAccount
from billing_pipeline.cnab.banks import CNAB_BANKS
from billing_pipeline.cnab.layout import (
    RECORD_WIDTH,
    Field,
    digit_matrix,
    put,
    put_constant,
    put_dates,
    put_numbers,
    put_text,
    record_layout,
    template,
    text_matrix,
)
from billing_pipeline.cnab.reader import CnabFile, read_cnab
from billing_pipeline.cnab.remessa import (
    _header_arquivo,
    _start,
    _with_crlf,
    header_lote,
    layouts,
    trailer_lote,
)

SIMULATED_BANK_NAME = "SIMULACAO SMART BILLING"
REJECTION_REASONS = ("09", "16", "45", "46", "52")
"""C047 for movement 03: nosso número duplicado, vencimento inválido, nome do pagador não informado, inscrição do
pagador inválida, UF inválida."""
CEP_INVALID, ADDRESS_MISSING, WRITE_OFF_BY_FILE = "48", "47", "10"
FEE_CENTS = 250
EVENTS_PER_LOTE = 49_999
"""T + U pairs a lote holds: its record number has 5 digits."""

PLAN_COLUMNS = ("line_number", "movement", "sequence", "nosso_numero", "outcome", "reasons", "amount_cents",
                "paid_cents", "fee_cents")
"""`outcome`: rejected (03), confirmed (02), paid (02 then 06) or written_off (09)."""


def planned_outcomes(remessa: bytes, *, paid: float = 0.6, rejected: float = 0.02, paid_on: date, seed: int = 0,
                     different_amount: float = 0.0) -> pd.DataFrame:
    """What the demo bank does with each title of `remessa` (columns `PLAN_COLUMNS`, in the remessa's order)."""
    return _plan(read_cnab(remessa), paid=paid, rejected=rejected, seed=seed, different_amount=different_amount)


def _plan(source: CnabFile, *, paid: float, rejected: float, seed: int, different_amount: float) -> pd.DataFrame:
    if source.kind != "remessa":
        raise ValueError("a retorno is simulated from a remessa")
    titles = source.titles
    n = len(titles)
    rng = np.random.default_rng(seed)
    draw_reject, draw_paid, draw_amount, draw_reason, draw_change = (rng.random(n) for _ in range(5))
    entrada = (titles["movement_code"] == "01").to_numpy()
    no_cep = (titles["cep"] == "").to_numpy()
    no_address = (titles["address"] == "").to_numpy()
    rejects = entrada & (no_cep | no_address | (draw_reject < rejected))
    settled = entrada & ~rejects & (draw_paid < paid)
    changed = settled & (draw_amount < different_amount)
    picked = np.array(REJECTION_REASONS)[(draw_reason * len(REJECTION_REASONS)).astype(int) % len(REJECTION_REASONS)]
    reasons = np.where(no_cep, CEP_INVALID, np.where(no_address, ADDRESS_MISSING, picked))
    amounts = titles["amount_cents"].to_numpy(dtype=np.int64)
    delta = np.maximum(1, np.round(amounts * (0.01 + 0.09 * np.abs(draw_change * 2 - 1))).astype(np.int64))
    paid_amounts = np.where(draw_change < 0.5, amounts + delta, np.maximum(amounts - delta, 1))
    outcome = np.where(~entrada, "written_off", np.where(rejects, "rejected", np.where(settled, "paid", "confirmed")))
    plan = pd.DataFrame({
        "line_number": titles["line_number"].to_numpy(), "movement": titles["movement_code"].to_numpy(),
        "sequence": titles["sequence"].array, "nosso_numero": titles["nosso_numero"].to_numpy(),
        "outcome": outcome, "reasons": np.where(rejects, reasons, np.where(~entrada, WRITE_OFF_BY_FILE, "")),
        "amount_cents": amounts,
        "paid_cents": pd.array(np.where(changed, paid_amounts, amounts), dtype="Int64"),
        "fee_cents": pd.array(np.full(n, FEE_CENTS), dtype="Int64"),
    })
    plan.loc[~settled, ["paid_cents", "fee_cents"]] = pd.NA
    return plan


def simulate_retorno(remessa: bytes, *, paid: float = 0.6, rejected: float = 0.02, paid_on: date, seed: int = 0,
                     different_amount: float = 0.0) -> bytes:
    """The retorno of `remessa` as the plan of `planned_outcomes` says, marked as a simulation."""
    source = read_cnab(remessa)
    plan = _plan(source, paid=paid, rejected=rejected, seed=seed, different_amount=different_amount)
    bank = CNAB_BANKS[source.bank_code]
    matrix = np.frombuffer(remessa.replace(b"\r\n", b"\n").replace(b"\n", b""), dtype=np.uint8)
    remessa_lines = matrix.reshape(-1, RECORD_WIDTH) if len(matrix) % RECORD_WIDTH == 0 else None
    if remessa_lines is None or len(remessa_lines) != source.lines:
        raise ValueError("simulate_retorno reads the remessas Smart Billing writes (240 bytes + CRLF a line)")
    p_layout = record_layout("P", bank.OVERRIDES)
    p_rows = remessa_lines[plan["line_number"].to_numpy() - 1]
    conta = source.conta or str(np.char.strip(block_text_first(p_rows, p_layout.get("conta")))).lstrip("0")
    account = BeneficiaryAccount(source.bank_code, source.agencia, conta, "", source.convenio, source.company_name,
                                 source.company_document)
    generated_at = datetime.combine(paid_on + timedelta(days=1), time(6, 0))
    lay = layouts(source.bank_code, "retorno")
    fixed = _retorno_fixed(bank, account)
    head = _header_arquivo(lay.header_arquivo, bank, account, source.nsa, generated_at, fixed, file_kind="2",
                           bank_name=SIMULATED_BANK_NAME)
    details, amounts = _details(plan, source, p_rows, p_layout, bank, fixed, paid_on)
    parts, lotes = [head], 0
    for start in range(0, max(len(details), 1), 2 * EVENTS_PER_LOTE):
        lotes += 1
        block = details[start:start + 2 * EVENTS_PER_LOTE].copy()
        block[:, 3:7] = np.frombuffer(f"{lotes:04d}".encode(), dtype=np.uint8)
        block[:, 8:13] = digit_matrix(np.arange(1, len(block) + 1), 5)
        parts.append(header_lote(lay.header_lote, bank, account, lotes, source.nsa, generated_at, fixed,
                                 operation="T"))
        parts.append(block)
        total = int(amounts[start // 2:start // 2 + len(block) // 2].sum())
        parts.append(trailer_lote(lay.trailer_lote, source.bank_code, lotes, len(block) + 2, len(block) // 2, total))
    trailer = np.tile(template(lay.trailer_arquivo), (1, 1))
    put_constant(trailer, lay.trailer_arquivo["bank_code"], source.bank_code)
    put_constant(trailer, lay.trailer_arquivo["lotes"], str(lotes))
    # a retorno of more than 999,999 lines wraps the 6-digit count (the reader compares it modulo 10**6)
    put_constant(trailer, lay.trailer_arquivo["records"], str((len(details) + 2 * lotes + 2) % 1_000_000))
    return _with_crlf(np.vstack(parts + [trailer])).tobytes()


def block_text_first(rows: np.ndarray, field: Field | None) -> np.ndarray:
    if field is None or not len(rows):
        return np.array("")
    return np.array(bytes(rows[0, field.columns]).decode("latin-1"))


def _retorno_fixed(bank: ModuleType, account: BeneficiaryAccount) -> dict[str, dict[str, str]]:
    fixed = bank.account_fields(account)
    if account.bank_code == "033":  # the retorno headers carry agência and conta, and the code in 9 digits
        own = {"agencia": f"{account.agencia:0>4}", "agencia_dv": "0", "conta": f"{account.conta:0>9}",
               "conta_dv": fixed["P"]["conta_dv"], "convenio": f"{account.convenio:0>9}"}
        return {**fixed, "header_arquivo": own, "header_lote": own}
    return fixed


def _details(plan: pd.DataFrame, source: CnabFile, p_rows: np.ndarray, p_layout: dict[str, Field], bank: ModuleType,
             fixed: dict[str, dict[str, str]], paid_on: date) -> tuple[np.ndarray, np.ndarray]:
    titles = source.titles
    outcome = plan["outcome"].to_numpy()
    first_movement = np.select([outcome == "rejected", outcome == "written_off"], ["03", "09"], "02")
    index = np.arange(len(plan))
    settled = np.flatnonzero(outcome == "paid")
    event_title = np.concatenate([index, settled])
    event_movement = np.concatenate([first_movement, np.full(len(settled), "06")])
    order = np.lexsort((np.concatenate([np.zeros(len(index)), np.ones(len(settled))]), event_title))
    event_title, event_movement = event_title[order], event_movement[order]
    is_settlement = event_movement == "06"
    events = len(event_title)
    t_layout = record_layout("T", bank.OVERRIDES)
    u_layout = record_layout("U", bank.OVERRIDES)
    code = source.bank_code
    t = _start(t_layout, events, code, 1, np.zeros(events, dtype=np.int64))  # lote and number set per lote
    u = _start(u_layout, events, code, 1, np.zeros(events, dtype=np.int64))
    for name, value in fixed["P"].items():
        if name in t_layout and name in ("agencia", "agencia_dv", "conta", "conta_dv", "agencia_conta_dv"):
            put_constant(t, t_layout[name], value)
    put_text(t, t_layout["movement"], event_movement)
    put_text(u, u_layout["movement"], event_movement)
    nosso = p_rows[event_title][:, p_layout["nosso_numero"].columns]
    put(t, t_layout["nosso_numero"], nosso[:, nosso.shape[1] - t_layout["nosso_numero"].width:])
    if "carteira_code" in p_layout:
        put(t, t_layout["carteira_code"], p_rows[event_title][:, p_layout["carteira_code"].columns])
    put_text(t, t_layout["document_number"], titles["document_number"].to_numpy(dtype=str)[event_title])
    put_dates(t, t_layout["due_date"], titles["due_date"].to_numpy(dtype="datetime64[D]")[event_title])
    amounts = titles["amount_cents"].to_numpy(dtype=np.int64)[event_title]
    put_numbers(t, t_layout["amount"], amounts)
    put_text(t, t_layout["company_use"], titles["company_use"].to_numpy(dtype=str)[event_title])
    documents = titles["payer_document"].to_numpy(dtype=str)[event_title]
    put_numbers(t, t_layout["payer_document_type"], np.where(documents == "", 0, np.where(
        np.char.str_len(documents) == 11, 1, 2)))
    width = t_layout["payer_document"].width
    put(t, t_layout["payer_document"], text_matrix(np.char.rjust(documents, width, "0"), width))
    put_text(t, t_layout["payer_name"], titles["payer_name"].to_numpy(dtype=str)[event_title])
    fees = plan["fee_cents"].to_numpy(dtype=np.float64, na_value=0).astype(np.int64)[event_title]
    put_numbers(t, t_layout["fee"], np.where(is_settlement, fees, 0))
    reasons = plan["reasons"].to_numpy(dtype=str)[event_title]
    put_text(t, t_layout["reasons"], np.where(is_settlement, "", reasons))
    paid_cents = plan["paid_cents"].to_numpy(dtype=np.float64, na_value=0).astype(np.int64)[event_title]
    paid_cents = np.where(is_settlement, paid_cents, 0)
    put_numbers(u, u_layout["paid"], paid_cents)
    put_numbers(u, u_layout["credited"], np.where(is_settlement, np.maximum(paid_cents - fees, 0), 0))
    put_numbers(u, u_layout["interest"], np.where(is_settlement, np.maximum(paid_cents - amounts, 0), 0))
    put_numbers(u, u_layout["discount"], np.where(is_settlement, np.maximum(amounts - paid_cents, 0), 0))
    day = np.datetime64(paid_on, "D")
    put_dates(u, u_layout["occurrence_date"], np.full(events, day))
    put_dates(u, u_layout["credit_date"], np.where(is_settlement, day + 1, np.datetime64("NaT", "D")))
    out = np.empty((2 * events, RECORD_WIDTH), dtype=np.uint8)
    out[0::2], out[1::2] = t, u
    return out, amounts
