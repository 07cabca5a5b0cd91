"""`billing cnab remessa|retorno|simulate` and `billing boleto cancel`: the bank files, from a shell."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from billing_pipeline.cli_common import CommandError, configured_store, debt_id_argument
from billing_pipeline.settings import Settings


def _fraction(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {raw!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {raw!r}")
    return value


def _shown(metadata: dict[str, object], json_output: bool, lines: list[str]) -> None:
    if json_output:
        print(json.dumps(metadata, ensure_ascii=False, default=str))
    else:
        print("\n".join(lines))


def _remessa(args: argparse.Namespace) -> int:
    from billing_pipeline.runner import ProcessError, write_remessa
    from billing_pipeline.stages import account_name

    settings = Settings.from_env()
    configured = account_name(settings.account)
    if args.account is not None and args.account != configured:
        raise CommandError(f"account {args.account!r} is not the issuing account ({configured}): a remessa is "
                           "written for the account BILLING_BANK, BILLING_AGENCIA, BILLING_CONTA, BILLING_CARTEIRA "
                           "and BILLING_CONVENIO configure")
    try:
        metadata = write_remessa(settings)
    except ProcessError as error:
        raise CommandError(str(error)) from None
    if not metadata.get("written"):
        _shown(metadata, args.json, [f"nothing to send for {configured}: every boleto is in a remessa already and "
                                     "no baixa is queued"])
        return 0
    lines = [f"wrote {metadata['remessa']}",
             f"  NSA {metadata['nsa']}: {metadata['entradas']:,} entradas, {metadata['baixas']:,} baixas, "
             f"{metadata['lines']:,} lines"]
    if metadata.get("without_full_address"):
        lines.append(f"  {metadata['without_full_address']:,} entradas without a full payer address (address, CEP, "
                     "city, UF): most banks reject them; add the CSV's address columns")
    _shown(metadata, args.json, lines)
    return 0


def _retorno(args: argparse.Namespace) -> int:
    from billing_pipeline.runner import ProcessError, import_retorno

    path = Path(args.path)
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    settings = Settings.from_env()
    try:
        registration, metadata = import_retorno(path, settings)
    except ProcessError as error:
        raise CommandError(str(error)) from None
    if metadata is None:
        _shown({"file_id": registration.file_id, "already_imported": True}, args.json,
               [f"{path.name}: the same bytes as retorno {registration.file_id}, imported before; nothing changed"])
        return 0
    lines = [f"retorno {registration.file_id} ({path.name}): {metadata['status']}"]
    if metadata.get("error"):
        lines.append(f"  {metadata['error']}")
    else:
        lines.append(f"  {metadata['titles']:,} movements: {metadata['applied']:,} applied, "
                     f"{metadata['already_applied']:,} already applied, {metadata['unmatched']:,} not ours")
        for code, movement in dict(metadata["by_movement"]).items():  # type: ignore[call-overload]
            lines.append(f"  {code} {movement['text']}: {movement['lines']:,}")
        for status, count in dict(metadata["by_status"]).items():  # type: ignore[call-overload]
            lines.append(f"  now {status}: {count:,}")
    lines.append(f"  report: {metadata['report']}")
    _shown(metadata, args.json, lines)
    return 1 if metadata.get("error") else 0


def _simulate(args: argparse.Namespace) -> int:
    from billing_pipeline.stages import CnabError, SimulationRefused, simulate_answer

    remessa = Path(args.remessa)
    if not remessa.is_file():
        raise CommandError(f"{remessa}: no such file")
    settings = Settings.from_env()
    output = Path(args.output) if args.output else None
    try:
        answer = simulate_answer(settings, remessa, output, paid=args.paid, rejected=args.rejected,
                                 different_amount=args.different_amount, force=args.force)
    except SimulationRefused as refusal:
        raise CommandError(str(refusal)) from None
    except CnabError as error:
        raise CommandError(f"{remessa}: {error}") from None
    print(f"SIMULATION: wrote {answer.path}, the retorno a bank could send back for remessa NSA "
          f"{answer.remessa_nsa} ({answer.titles:,} titles); it is not from a bank")
    if output is not None:
        print(f"import it with: billing cnab retorno {answer.path}")
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from billing_pipeline.stages import BoletoNotCancellable, cancel_boleto

    debt_id = debt_id_argument(args.debt_id)
    with configured_store(Settings.from_env()) as engine:
        try:
            outcome = cancel_boleto(engine, Settings.from_env(), debt_id)
        except LookupError:
            raise CommandError(f"no boleto for debt {args.debt_id}: is the debt loaded and its chunk past "
                               "`boletos`?") from None
        except BoletoNotCancellable as refusal:
            raise CommandError(str(refusal)) from None
    print(outcome.message)
    return 0


def add_bank_file_commands(commands: argparse._SubParsersAction) -> None:
    cnab = commands.add_parser("cnab", help="bank files (CNAB 240): the remessa out, retornos in, a demo bank")
    cnab_commands = cnab.add_subparsers(dest="cnab_command", required=True)

    remessa = cnab_commands.add_parser(
        "remessa", help="write the next remessa: every boleto not yet sent to the bank, every baixa queued")
    remessa.add_argument("--account", help="the account, as remessa files name it (<bank>-<agência>-<conta>); "
                         "only the configured issuing account can be sent")
    remessa.add_argument("--json", action="store_true", help="print one JSON object")
    remessa.set_defaults(handler=_remessa)

    retorno = cnab_commands.add_parser("retorno", help="import a retorno from the bank (once: by its sha256)")
    retorno.add_argument("path")
    retorno.add_argument("--json", action="store_true", help="print one JSON object")
    retorno.set_defaults(handler=_retorno)

    simulate = cnab_commands.add_parser(
        "simulate", help="SIMULATION: write the retorno a bank could send back for a remessa (DEMO account only)")
    simulate.add_argument("remessa")
    simulate.add_argument("--paid", type=_fraction, default=0.6, help="share of registered titles paid (0.6)")
    simulate.add_argument("--rejected", type=_fraction, default=0.02,
                          help="share of titles the bank rejects (0.02; titles without an address always are)")
    simulate.add_argument("--different-amount", type=_fraction, default=0.05,
                          help="share of paid titles paid with another amount (0.05)")
    simulate.add_argument("-o", "--output", help="where to write it (default: the retorno inbox, where the daemon "
                          "imports it)")
    simulate.add_argument("--force", action="store_true", help="simulate a remessa of another account than the DEMO")
    simulate.set_defaults(handler=_simulate)


def add_boleto_cancel(boleto_commands: argparse._SubParsersAction) -> None:
    cancel = boleto_commands.add_parser(
        "cancel", help="cancel a boleto: a baixa queued for the next remessa (at once, if never sent to the bank)")
    cancel.add_argument("debt_id")
    cancel.set_defaults(handler=_cancel)
