"""The `billing` command."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from billing_pipeline.pipeline_steps import STEPS
from billing_pipeline.settings import Settings, SettingsError
from billing_pipeline.statuses import FileStatus

if TYPE_CHECKING:
    from dagster import DagsterInstance
    from sqlalchemy import Engine

EMBEDDED_INSTANCE_YAML = Path(__file__).with_name("dagster_embedded.yaml")
WORKSPACE_YAML = Path(__file__).with_name("workspace.yaml")
DEFAULT_DAGSTER_HOME = ".dagster"
# Instance plugins an instance file written by an earlier version may name where they used to be.
MOVED_INSTANCE_MODULES = {
    "billing_pipeline.defs.pooled_postgres_storage": "billing_pipeline.instance.pooled_postgres_storage",
}


class CommandError(Exception):
    """Printed as `error: ...` with exit status 2, never as a traceback."""


@contextlib.contextmanager
def _store(settings: Settings) -> Iterator[Engine]:
    """An engine on the configured store with its schema brought current."""
    from billing_pipeline.stages import open_store

    engine = open_store(settings)
    try:
        yield engine
    finally:
        engine.dispose()


def _debt_id(raw: str) -> str:
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError:
        raise CommandError(f"{raw!r} is not a debtId (a UUID)") from None


def _workers(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {raw!r}")
    return int(raw)


def _process(args: argparse.Namespace) -> int:
    from billing_pipeline.runner import ProcessError, process_file

    path = Path(args.path)
    if not path.is_file():
        raise CommandError(f"{path} is not a file")
    try:
        summary = process_file(path, Settings.from_env(), until=args.until, workers=args.workers)
    except ProcessError as error:
        raise CommandError(str(error)) from None
    if args.json:
        print(json.dumps(summary.as_dict(), sort_keys=True))
    else:
        for key, value in summary.as_dict().items():
            if value is not None:
                print(f"{key:>16}: {value}")
    if summary.status == FileStatus.REJECTED:
        print(f"error: file rejected: {summary.error}", file=sys.stderr)
        return 2
    return 0


def _sample(args: argparse.Namespace) -> int:
    from billing_pipeline.sample import write_sample

    try:
        injected = write_sample(Path(args.output), args.rows, args.seed, args.invalid_rate)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if args.manifest:
        Path(args.manifest).write_text(
            json.dumps([{"line_number": e.line_number, "code": str(e.code)} for e in injected], indent=1)
        )
    print(f"wrote {args.rows} rows ({len({e.line_number for e in injected})} with deliberate errors) to {args.output}")
    return 0


def _submit(args: argparse.Namespace) -> int:
    from billing_pipeline.stages import submit_file

    settings = Settings.from_env()
    try:
        target = submit_file(settings, Path(args.path))
    except FileNotFoundError as error:
        raise CommandError(str(error)) from None
    print(f"submitted {args.path} as {target}")
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from billing_pipeline.stages import upgrade_store

    applied, still_pending = upgrade_store(Settings.from_env())
    for migration in applied:
        print(f"applied {migration.version:04d}_{migration.name}")
    if not applied:
        print("schema is current" if not still_pending else "pending migrations remain")
    return 0


def _boleto_show(args: argparse.Namespace) -> int:
    from billing_pipeline.stages.lookup import boleto_summary

    debt_id = _debt_id(args.debt_id)
    with _store(Settings.from_env()) as engine:
        shown = boleto_summary(engine, debt_id)
    if shown is None:
        raise CommandError(f"no boleto for debt {args.debt_id}: is the debt loaded and its chunk past `boletos`?")
    if args.json:
        print(json.dumps(shown, ensure_ascii=False))
    else:
        for key, value in shown.items():
            print(f"{key:>18}: {value}")
    return 0


def _boleto_pdf(args: argparse.Namespace) -> int:
    from billing_pipeline.stages.lookup import boleto_pdf

    debt_id = _debt_id(args.debt_id)
    settings = Settings.from_env()
    with _store(settings) as engine:
        pdf = boleto_pdf(engine, settings, debt_id)
    if pdf is None:
        raise CommandError(f"no boleto for debt {debt_id}: is the debt loaded and its chunk past `boletos`?")
    output = Path(args.output)
    output.write_bytes(pdf)
    print(f"wrote {output} ({len(pdf):,} bytes)")
    return 0


def _notify(args: argparse.Namespace) -> int:
    from billing_pipeline.stages import notify_stage

    settings = Settings.from_env()
    with _store(settings) as engine:
        outcome = notify_stage(engine, settings, file_id=args.file, retry_failed=args.retry_failed)
    print(f"sent {outcome.sent}, failed {outcome.failed}, suppressed {outcome.suppressed}, "
          f"still pending {outcome.still_pending} ({outcome.per_second:.1f} messages/s)")
    return 0 if outcome.still_pending == 0 else 3


def _outbox(args: argparse.Namespace) -> int:
    from billing_pipeline.stages.lookup import notice_counts

    with _store(Settings.from_env()) as engine:
        counts = notice_counts(engine, file_id=args.file)
    if args.json:
        print(json.dumps(counts))
    else:
        for status, count in counts.items():
            print(f"{status:>10}: {count}")
    return 0


def prepare_dagster_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copyfile(EMBEDDED_INSTANCE_YAML, home / "dagster.yaml")
    return home


def instance_file_warnings(home: Path) -> list[str]:
    """What an instance file written by an earlier version lacks or names wrongly (a DAGSTER_HOME is kept across
    upgrades)."""
    import yaml

    config = yaml.safe_load((home / "dagster.yaml").read_text(encoding="utf-8")) or {}
    shipped = yaml.safe_load(EMBEDDED_INSTANCE_YAML.read_text(encoding="utf-8"))
    warnings = _moved_modules(home)
    if "run_launcher" in config:  # ours, or another an operator chose (Docker, Kubernetes)
        return warnings
    launcher = f"{shipped['run_launcher']['module']}.{shipped['run_launcher']['class']}"
    return [*warnings, f"{home / 'dagster.yaml'} names no run launcher, so Dagster's default one runs, without "
            f"{launcher}'s health check: after a crash, runs whose workers died stay STARTED and hold their pool "
            f"slots. Copy the run_launcher section of {EMBEDDED_INSTANCE_YAML} (docs/operations.md, \"After a "
            "crash\")."]


def _moved_modules(home: Path) -> list[str]:
    """One sentence per plugin the instance file names where it used to be: Dagster cannot load such a file."""
    text = (home / "dagster.yaml").read_text(encoding="utf-8")
    return [f"{home / 'dagster.yaml'} names {moved}, which is now {now}: Dagster cannot load the instance until the "
            "file says so" for moved, now in MOVED_INSTANCE_MODULES.items() if moved in text]


@contextlib.contextmanager
def _instance(home: Path) -> Iterator[DagsterInstance]:
    """The Dagster instance of `home`; an instance file naming a plugin where it used to be is refused in one line."""
    from dagster import DagsterInstance

    if moved := _moved_modules(home):
        raise CommandError(moved[0])
    with DagsterInstance.from_config(str(home)) as instance:
        yield instance


def _pool_limit(raw: str) -> tuple[str, int]:
    from billing_pipeline.instance.pools import POOLS

    name, _, number = raw.partition("=")
    names = [pool.name for pool in POOLS]
    if name not in names or not number.isdigit():
        raise argparse.ArgumentTypeError(f"expected POOL=N with POOL one of {', '.join(names)}, got {raw!r}")
    return name, int(number)


def _pools(args: argparse.Namespace) -> int:
    from billing_pipeline.instance.pools import POOLS, apply_default_limits

    home = prepare_dagster_home()
    with _instance(home) as instance:
        limits = apply_default_limits(instance, dict(args.set or []))
    for pool in POOLS:
        print(f"{pool.name:>5}: {limits[pool.name]}  ({pool.guards})")
    return 0


def _dev(args: argparse.Namespace) -> int:
    from billing_pipeline.instance.pools import apply_default_limits

    settings = Settings.from_env()
    settings.ensure_dirs()
    with _store(settings):
        pass  # the schema is current before Dagster starts
    home = prepare_dagster_home()
    with _instance(home) as instance:  # an instance file it cannot load stops here, with the reason
        apply_default_limits(instance)
    for warning in instance_file_warnings(home):
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    environment = dict(os.environ, DAGSTER_HOME=str(home), BILLING_DATA_DIR=str(settings.data_dir),
                       BILLING_DATABASE_URL=settings.database_url)
    dg = Path(sys.executable).with_name("dg")
    command = [str(dg), "dev", "-w", str(WORKSPACE_YAML), "-h", args.host, "-p", str(args.port)]
    print(f"Dagster UI: http://{args.host}:{args.port}  (DAGSTER_HOME={home}, data in {settings.data_dir},"
          f" drop CSV files into {settings.inbox_dir})", flush=True)
    os.execve(dg, command, environment)
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="billing", description="Smart Billing: CSV of debts in, debts out.")
    commands = parser.add_subparsers(dest="command", required=True)

    process = commands.add_parser("process", help="run the pipeline for one file in this process (no daemon)")
    process.add_argument("path")
    process.add_argument("--json", action="store_true", help="print one JSON object")
    process.add_argument("--until", default="notifications",
                         choices=STEPS,
                         help="stop after this stage")
    process.add_argument("--workers", type=_workers, default=None,
                         help="chunks processed at once, each in its own process (default: 1 on SQLite, "
                         "min(2, cores) on PostgreSQL)")
    process.set_defaults(handler=_process)

    sample = commands.add_parser("sample", help="write a realistic input file")
    sample.add_argument("--rows", type=int, required=True)
    sample.add_argument("--seed", type=int, default=1)
    sample.add_argument("--invalid-rate", type=float, default=0.0, help="share of rows with a deliberate error")
    sample.add_argument("-o", "--output", required=True)
    sample.add_argument("--manifest", help="also write the injected errors (line, code) as JSON here")
    sample.set_defaults(handler=_sample)

    submit = commands.add_parser("submit", help="copy a file into the inbox atomically")
    submit.add_argument("path")
    submit.set_defaults(handler=_submit)

    database = commands.add_parser("db", help="the store's schema")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    database_commands.add_parser("upgrade", help="apply pending migrations").set_defaults(handler=_db_upgrade)

    boleto = commands.add_parser("boleto", help="boletos in the store")
    boleto_commands = boleto.add_subparsers(dest="boleto_command", required=True)
    show = boleto_commands.add_parser("show", help="print one debt's boleto")
    show.add_argument("debt_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_boleto_show)
    pdf = boleto_commands.add_parser("pdf", help="render one debt's boleto as a PDF")
    pdf.add_argument("debt_id")
    pdf.add_argument("-o", "--output", required=True)
    pdf.set_defaults(handler=_boleto_pdf)

    notify = commands.add_parser("notify", help="send pending notices (or, with --retry-failed, failed ones)")
    notify.add_argument("--retry-failed", action="store_true", help="re-send only the notices that failed")
    notify.add_argument("--file", help="only this file's notices (its sha256 id)")
    notify.set_defaults(handler=_notify)

    outbox = commands.add_parser("outbox", help="notices by state")
    outbox.add_argument("--file", help="only this file's notices")
    outbox.add_argument("--json", action="store_true")
    outbox.set_defaults(handler=_outbox)

    pools = commands.add_parser(
        "pools", help="set each concurrency pool's default limit where none is set yet; print the limits")
    pools.add_argument("--set", action="append", type=_pool_limit, metavar="POOL=N",
                       help="set this pool's limit even if one is set (repeatable)")
    pools.set_defaults(handler=_pools)

    dev = commands.add_parser("dev", help="Dagster webserver + daemon on the configured store")
    dev.add_argument("--port", type=int, default=3000)
    dev.add_argument("--host", default="127.0.0.1")
    dev.set_defaults(handler=_dev)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (CommandError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # the store unreachable, a full disk: say so in one line
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(error, SQLAlchemyError | OSError):
            print(f"error: {type(error).__name__}: {str(error).splitlines()[0]}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
