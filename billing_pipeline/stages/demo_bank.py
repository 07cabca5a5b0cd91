"""The demo bank: the retorno a bank could send back for one of our remessas, so that a newcomer sees boletos
registered, rejected and paid without a bank contract. A SIMULATION: it answers for the shipped DEMO account only,
unless forced, and every retorno it writes says so in its header."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from billing_pipeline.cnab.reader import CnabFile, read_cnab
from billing_pipeline.cnab.simulate import simulate_retorno
from billing_pipeline.settings import Settings, demo_account
from billing_pipeline.storage.atomic import replaced_atomically
from billing_pipeline.storage.location import AnyPath
from billing_pipeline.storage.objects import read_bytes

DEFAULT_PAID = 0.6
DEFAULT_REJECTED = 0.02
DEFAULT_DIFFERENT_AMOUNT = 0.05


class SimulationRefused(Exception):
    """The remessa is not the DEMO account's: a simulated retorno of a real account's boletos could be mistaken for
    the bank's word."""


@dataclass(frozen=True)
class DemoAnswer:
    path: AnyPath
    remessa_nsa: int
    titles: int
    lines: int


def simulate_answer(settings: Settings, remessa_path: AnyPath, output: AnyPath | None = None, *,
                    paid: float = DEFAULT_PAID, rejected: float = DEFAULT_REJECTED,
                    different_amount: float = DEFAULT_DIFFERENT_AMOUNT, paid_on: date | None = None,
                    force: bool = False) -> DemoAnswer:
    """Write the simulated retorno of `remessa_path` to `output` (by default into the retorno inbox, where the
    daemon imports it). Raises SimulationRefused for another account's remessa unless `force`, and CnabError for a
    file that is not a remessa."""
    data = read_bytes(remessa_path)
    remessa = read_cnab(data)
    if remessa.kind != "remessa":
        raise SimulationRefused(f"{remessa_path} is a {remessa.kind}, not a remessa: nothing to answer")
    if not force and not is_demo_remessa(remessa):
        raise SimulationRefused(
            f"the remessa is for bank {remessa.bank_code}, agência {remessa.agencia}, conta {remessa.conta}, not the "
            "DEMO account: a simulated retorno of real boletos could be taken for the bank's; --force to simulate "
            "anyway")
    try:
        answer = simulate_retorno(data, paid=paid, rejected=rejected, different_amount=different_amount,
                                  paid_on=paid_on or date.today(), seed=remessa.nsa)
    except KeyError:
        raise SimulationRefused(f"the demo bank answers remessas of the banks this product writes for, not bank "
                                f"{remessa.bank_code}") from None
    except ValueError as error:
        raise SimulationRefused(f"this remessa cannot be simulated: {error}") from None
    target = output or settings.retorno_inbox_dir / f"SIMULATED-{_stem(remessa_path)}.ret"
    with replaced_atomically(target) as partial:
        partial.write_bytes(answer)
    return DemoAnswer(target, remessa.nsa, len(remessa.titles), answer.count(b"\n"))


def answer_as_demo_bank(settings: Settings, remessa_path: AnyPath) -> DemoAnswer:
    """BILLING_DEMO_BANK's answer to a new remessa: never forced, and only while the issuing account is the DEMO."""
    if not settings.is_demo_account:
        raise SimulationRefused("BILLING_DEMO_BANK is on, but the issuing account is not the DEMO one: no "
                                "simulated retorno is written for a real account")
    return simulate_answer(settings, remessa_path)


def is_demo_remessa(remessa: CnabFile) -> bool:
    demo = demo_account()
    return (remessa.bank_code == demo.bank_code and _number(remessa.agencia) == _number(demo.agencia)
            and _number(remessa.conta) == _number(demo.conta))


def _number(text: str) -> str:
    return text.strip().lstrip("0")


def _stem(path: AnyPath) -> str:
    name = path.name
    return name[: -len(".rem")] if name.lower().endswith(".rem") else name
