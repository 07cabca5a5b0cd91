"""The `billing` command."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from billing_pipeline.cli_bank_files import add_bank_file_commands, add_boleto_cancel
from billing_pipeline.cli_common import CommandError, configured_store, debt_id_argument
from billing_pipeline.cli_reminders import add_reminder_commands
from billing_pipeline.pipeline_steps import STEPS
from billing_pipeline.settings import Settings, SettingsError
from billing_pipeline.statuses import FileStatus

if TYPE_CHECKING:
    from dagster import DagsterInstance

    from billing_pipeline.stages import BoletoEventView

EMBEDDED_INSTANCE_YAML = Path(__file__).with_name("dagster_embedded.yaml")
WORKSPACE_YAML = Path(__file__).with_name("workspace.yaml")
DEFAULT_DAGSTER_HOME = ".dagster"
# Instance plugins an instance file written by an earlier version may name where they used to be.
MOVED_INSTANCE_MODULES = {
    "billing_pipeline.defs.pooled_postgres_storage": "billing_pipeline.instance.pooled_postgres_storage",
}


_store = configured_store
_debt_id = debt_id_argument


def _at_least_zero(raw: str) -> int:
    if not raw.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number, got {raw!r}")
    return int(raw)


def _workers(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {raw!r}")
    return int(raw)


def _process(args: argparse.Namespace) -> int:
    from billing_pipeline.runner import ProcessError, process_file
    from billing_pipeline.terminal_progress import file_progress

    path = Path(args.path)
    if not path.is_file():
        raise CommandError(f"{path} is not a file")
    try:
        with file_progress() as progress:  # on stderr: stdout keeps the summary alone
            summary = process_file(path, Settings.from_env(), until=args.until, workers=args.workers,
                                   progress=progress)
    except ProcessError as error:
        raise CommandError(str(error)) from None
    if args.json:
        print(json.dumps(summary.as_dict(), sort_keys=True))
    elif summary.already_received:
        print(f"{path}: {summary.already_received}")
    else:
        for key, value in summary.as_dict().items():
            if value is not None:
                print(f"{key:>16}: {value}")
    if summary.status == FileStatus.REJECTED and not summary.already_received:
        print(f"error: file rejected: {summary.error}", file=sys.stderr)
        return 2
    return 0


def _sample(args: argparse.Namespace) -> int:
    from billing_pipeline.sample import write_sample

    try:
        injected = write_sample(Path(args.output), args.rows, args.seed, args.invalid_rate,
                                with_address=args.with_address, with_terms=args.with_terms)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if args.manifest:
        Path(args.manifest).write_text(
            json.dumps([{"line_number": e.line_number, "code": str(e.code)} for e in injected], indent=1)
        )
    print(f"wrote {args.rows} rows ({len({e.line_number for e in injected})} with deliberate errors) to {args.output}")
    return 0


def _submit(args: argparse.Namespace) -> int:
    from billing_pipeline.stages import submit_stage

    settings = Settings.from_env()
    with _store(settings) as engine:
        try:
            submission = submit_stage(engine, settings, Path(args.path))
        except FileNotFoundError as error:
            raise CommandError(str(error)) from None
    if submission.already_received:
        print(f"{args.path}: {submission.already_received}")
    else:
        print(f"submitted {args.path} as {submission.target}")
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
    from billing_pipeline.stages import boleto_events, boleto_summary, plain_data

    debt_id = _debt_id(args.debt_id)
    with _store(Settings.from_env()) as engine:
        shown = boleto_summary(engine, debt_id)
        events = boleto_events(engine, debt_id) if shown is not None else []
    if shown is None:
        raise CommandError(f"no boleto for debt {args.debt_id}: is the debt loaded and its chunk past `boletos`?")
    if args.json:
        print(json.dumps({**shown, "events": [plain_data(event) for event in events]}, ensure_ascii=False))
        return 0
    for key, value in shown.items():
        print(f"{key:>18}: {value}")
    if events:
        print(f"\n{len(events)} event{'s' if len(events) > 1 else ''}:")
        print("\n".join(_table(["recorded (UTC)", "event", "status", "source", "movement", "reasons"],
                               [_event_row(event) for event in events], indent=2)))
    return 0


def _event_row(event: BoletoEventView) -> list[object]:
    source = event.source if event.source_kind != "retorno" else f"retorno {event.source[:12]}"
    if event.line_number:
        source += f" line {event.line_number}"
    movement = f"{event.movement_code} {event.movement_text}" if event.movement_code else ""
    if event.amount_paid:
        movement += f" ({event.amount_paid} on {event.paid_on})"
    return [_moment(event.recorded_at), event.kind, event.status or "", source, movement,
            event.reason_texts or event.reasons or ""]


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
    from billing_pipeline.terminal_progress import step_progress

    settings = Settings.from_env()
    with _store(settings) as engine, step_progress() as progress:
        outcome = notify_stage(engine, settings, file_id=args.file, retry_failed=args.retry_failed,
                               progress=progress)
    print(f"sent {outcome.sent}, failed {outcome.failed}, suppressed {outcome.suppressed}, "
          f"still pending {outcome.still_pending} ({outcome.per_second:.1f} messages/s)")
    return 0 if outcome.still_pending == 0 else 3


def _outbox(args: argparse.Namespace) -> int:
    from billing_pipeline.stages import reminder_counts
    from billing_pipeline.stages.lookup import notice_counts

    with _store(Settings.from_env()) as engine:
        counts = notice_counts(engine, file_id=args.file)
        reminders = reminder_counts(engine, file_id=args.file)
    if args.json:
        print(json.dumps(counts))
    else:
        for status, count in counts.items():
            print(f"{status:>10}: {count}")
        if any(reminders.values()):  # apart: the lines above stay the first notices' (one per boleto)
            print("reminders: " + ", ".join(f"{count} {status}" for status, count in reminders.items()))
    return 0


def _resolving_file(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """`handler` with args.file, a file id or a unique prefix of it, replaced by the file's id; an id that names
    no file, or several, is refused in one line before the handler runs."""
    def resolved(args: argparse.Namespace) -> int:
        if args.file is not None:
            from billing_pipeline.stages import FileIdError, resolve_file_id

            with _store(Settings.from_env()) as engine:
                try:
                    args.file = resolve_file_id(engine, args.file)
                except FileIdError as error:
                    raise CommandError(str(error)) from None
        return handler(args)

    return resolved


def _files(args: argparse.Namespace) -> int:
    from billing_pipeline.stages import list_files, plain_data

    with _store(Settings.from_env()) as engine:
        listed = list_files(engine, FileStatus(args.status) if args.status else None, limit=args.limit or None)
    if args.json:
        print(json.dumps(plain_data(listed), ensure_ascii=False))
        return 0
    if not listed:
        print(f"no {args.status} files" if args.status else "no files")
        return 0
    headers = ["received (UTC)", "file id", "status", "via", "again", "rows", "accepted", "rejected",
               "duplicates", "sent", "pending", "failed", "name"]
    rows = [[_moment(f.received_at), f.file_id[:FILE_ID_SHOWN], f.status, f.received_via, f.received_again, f.rows,
             f.accepted, f.rejected, f.duplicates, f.notices["sent"], f.notices["pending"], f.notices["failed"],
             f.original_name] for f in listed]
    print("\n".join(_table(headers, rows)))
    return 0


def _file_show(args: argparse.Namespace) -> int:
    from billing_pipeline.stages import FileIdError, file_collection, file_view, plain_data

    settings = Settings.from_env()
    with _store(settings) as engine:
        try:
            view = file_view(engine, settings, args.file_id)
        except FileIdError as error:
            raise CommandError(str(error)) from None
        collection = file_collection(engine, view.detail.summary.file_id).as_dict()
    if args.json:
        print(json.dumps({**plain_data(view), "collection": collection}, ensure_ascii=False))
        return 0
    summary = view.detail.summary
    fields = {"name": summary.original_name, "sha256": summary.file_id, "status": summary.status,
              "received": f"{_moment(summary.received_at)} UTC via {summary.received_via}"
              + (f", then {_more_times(summary.received_again)}" if summary.received_again else "")}
    if summary.error_code:
        fields["error"] = f"{summary.error_code}: {summary.error_message}"
    fields["rows"] = (f"{_shown(summary.rows)} (accepted {_shown(summary.accepted)}, rejected "
                      f"{_shown(summary.rejected)}, duplicates {_shown(summary.duplicates)})")
    fields["reject codes"] = ", ".join(f"{code} {count}" for code, count in view.detail.reject_codes.items()) or "none"
    fields["notices"] = ", ".join(f"{status} {count}" for status, count in summary.notices.items())
    fields["boletos"] = ", ".join(f"{name.replace('_', ' ')} {figure['count']:,} ({figure['amount']})"
                                  for name, figure in collection.items() if figure["count"]) or "none"
    if collection["paid"]["count"]:
        fields["paid"] = f"{collection['paid']['paid_amount']} paid for {collection['paid']['amount']} of boletos"
    for name, written in (("rejects", view.rejects), ("report", view.report), ("archive", view.archive)):
        fields[name] = f"{written.path}" + ("" if written.written else "  (not written yet)")
    for key, value in fields.items():
        print(f"{key:>12}: {value}")
    print(f"\nreceived {_times(len(view.detail.receipts))}:")
    print("\n".join(_table(["received (UTC)", "via", "name"],
                           [[_moment(r.received_at), r.received_via, r.original_name] for r in view.detail.receipts],
                           indent=2)))
    if view.detail.chunks:
        print(f"\n{len(view.detail.chunks)} chunk{'s' if len(view.detail.chunks) > 1 else ''}:")
        print("\n".join(_table(
            ["chunk", "no", "lines", "rows", "status", "accepted", "rejected", "duplicates"],
            [[c.chunk_key, c.chunk_no, f"{c.first_line}-{c.last_line}", c.rows, c.status, c.accepted, c.rejected,
              c.duplicates] for c in view.detail.chunks], indent=2)))
    return 0


FILE_ID_HELP = "only this file's notices: its sha256, or a unique prefix of it (4 hex digits at least)"
FILE_ID_SHOWN = 12  # digits of a file id a table shows, as its chunk keys do; `--file` and `files show` take them


def _moment(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _more_times(count: int) -> str:
    return "once more" if count == 1 else f"{count} more times"


def _shown(value: object) -> str:
    return "-" if value is None else str(value)


def _table(headers: list[str], rows: list[list[object]], indent: int = 0) -> list[str]:
    """Aligned columns: numbers to the right, text to the left; a missing value is `-`."""
    cells = [headers, *[[_shown(value) for value in row] for row in rows]]
    numeric = [all(isinstance(row[i], int) or row[i] is None for row in rows) for i in range(len(headers))]
    widths = [max(len(line[i]) for line in cells) for i in range(len(headers))]
    return [" " * indent + "  ".join(cell.rjust(width) if right else cell.ljust(width)
                                     for cell, width, right in zip(line, widths, numeric, strict=True)).rstrip()
            for line in cells]


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


def _port(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number (1-65535), got {raw!r}")
    return int(raw)


def _api(args: argparse.Namespace) -> int:
    from billing_pipeline.api.server import serve

    settings = Settings.from_env()
    settings.ensure_dirs()
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn has shut down gracefully by then
        serve(settings, args.host, args.port)
    return 0


def _dev(args: argparse.Namespace) -> int:
    from billing_pipeline.instance.pools import apply_default_limits

    with _Supervisor() as supervisor:
        try:
            settings = Settings.from_env()
            settings.ensure_dirs()
            with _store(settings):
                pass  # the schema is current before Dagster starts
            home = prepare_dagster_home()
            with _instance(home) as instance:  # an instance file it cannot load stops here, with the reason
                apply_default_limits(instance)
            for warning in instance_file_warnings(home):
                print(f"warning: {warning}", file=sys.stderr, flush=True)
            dg = Path(sys.executable).with_name("dg")
            command = [str(dg), "dev", "-w", str(WORKSPACE_YAML), "-h", args.host, "-p", str(args.port)]
            print(f"Dagster UI: http://{args.host}:{args.port}  (DAGSTER_HOME={home}, data in {settings.data_dir},"
                  f" drop CSV files into {settings.inbox_dir})", flush=True)
            # The HTTP API beside it, on the same settings and instance (its /metrics counts the instance's runs).
            api = [] if args.no_api else [[sys.executable, "-m", "billing_pipeline.cli", "api", "--host", args.host,
                                           "--port", str(args.api_port or settings.api_port)]]
            # In DAGSTER_HOME rather than here: `dagster dev` warns about any dagster.yaml in its folder that is not
            # DAGSTER_HOME's (the repository root holds the production one) and loads the folder's .env over the
            # environment (the repository's is docker-compose's).
            status = supervisor.run(command, dev_environment(settings, home), cwd=home, companions=api)
        except KeyboardInterrupt:
            pass  # a signal before Dagster started: nothing to stop
    if supervisor.stopped_by is None:
        return status
    name = "Ctrl-C" if supervisor.stopped_by == signal.SIGINT else supervisor.stopped_by.name
    print(f"billing dev: stopped ({name})" + ("; the webserver, the daemon and their code servers are shut down"
                                              if supervisor.started else " before Dagster started"), flush=True)
    return 0


def dev_environment(settings: Settings, home: Path) -> dict[str, str]:
    """The environment of `billing dev`'s Dagster processes: this one, with DAGSTER_HOME and the settings' paths
    made absolute (those processes run in DAGSTER_HOME, not in this folder)."""
    return dict(os.environ, DAGSTER_HOME=str(home), BILLING_DATA_DIR=str(settings.data_dir),
                BILLING_INBOX=str(settings.inbox_dir),
                BILLING_DATABASE_URL=_absolute_store_url(settings.database_url),
                BILLING_SUPPRESSION_FILE=str(settings.suppressions_path))  # the settings made them absolute


def _absolute_store_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:" or path.startswith("file:") \
            or Path(path).is_absolute():
        return url
    return parsed.set(database=str(Path(path).resolve())).render_as_string(hide_password=False)


def _ended_with_parent() -> None:
    """In the child, before it runs: SIGTERM when `billing dev` dies (SIGKILL, the OOM killer). Out of its process
    group, the child would otherwise outlive it, with the webserver holding the port."""
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class _Supervisor:
    """Runs a command (`dg dev`) in a process group of its own and hands it each SIGINT, SIGTERM or SIGHUP this
    process gets; a signal that comes before the command started raises KeyboardInterrupt instead.

    A terminal's Ctrl-C reaches its whole foreground process group. Were `dg dev` in it, a Ctrl-C while it starts
    or stops would end it with click's "Aborted!" and status 1, which `make demo` reports as `make: *** [...]
    Error 1`, and a signal handed on to it again would interrupt its shutdown. In a group of its own it gets each
    signal once, from here, and `billing dev` ends with status 0 when an operator stopped it. (make, interrupted
    itself, then ends by SIGINT without a message.)"""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.child: subprocess.Popen | None = None
        self.companions: list[subprocess.Popen] = []
        self.stopped_by: signal.Signals | None = None  # the first signal received
        self._starting = False
        self._previous: dict[int, Any] = {}

    @property
    def started(self) -> bool:
        return self.child is not None

    def __enter__(self) -> _Supervisor:
        self._previous = {number: signal.signal(number, self._hand_on) for number in self.SIGNALS}
        return self

    def __exit__(self, *exc_info: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _hand_on(self, number: int, frame: object) -> None:
        self.stopped_by = self.stopped_by or signal.Signals(number)
        if self.child is None:
            if self._starting:
                return  # handed on once the child exists
            raise KeyboardInterrupt
        for child in [self.child, *self.companions]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, number)

    def _watch(self, companion: subprocess.Popen, command: list[str]) -> None:
        """Says so when a companion ends on its own (its port taken, say) while the command goes on."""
        status = companion.wait()
        if self.stopped_by is None and self.child is not None and self.child.poll() is None:
            print(f"warning: `billing {command[3]}` stopped (exit status {status}); the rest goes on without it",
                  file=sys.stderr, flush=True)

    def run(self, command: list[str], environment: dict[str, str], cwd: Path,
            companions: list[list[str]] | None = None) -> int:
        """The command's exit status (128 + N when signal N ended it). `companions` run beside it, each in a group
        of its own, get the same signals, and are stopped when it ends."""
        self._starting = True
        # No terminal input: a background process group reading it would be stopped (SIGTTIN).
        started = [subprocess.Popen(each, env=environment, cwd=cwd, stdin=subprocess.DEVNULL, process_group=0,
                                    preexec_fn=_ended_with_parent) for each in [command, *(companions or [])]]
        self.child, self.companions = started[0], started[1:]
        if self.stopped_by is not None:  # it came while the children were being created
            for child in started:
                os.killpg(child.pid, self.stopped_by)
        for companion, each in zip(self.companions, companions or [], strict=True):
            threading.Thread(target=self._watch, args=(companion, each), daemon=True).start()
        status = self.child.wait()
        for companion in self.companions:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(companion.pid, signal.SIGTERM)
            try:
                companion.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(companion.pid, signal.SIGKILL)
                companion.wait()
        return status if status >= 0 else 128 - status


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
    sample.add_argument("--with-address", action="store_true",
                        help="also write the optional payer address columns (address, district, zipCode, city, state)")
    sample.add_argument("--with-terms", action="store_true",
                        help="also write the optional charge terms columns (finePercent, interestMonthlyPercent, "
                        "discountPercent, discountUntil) for about a third of the rows")
    sample.set_defaults(handler=_sample)

    submit = commands.add_parser("submit", help="copy a file into the inbox atomically (bytes received before are "
                                 "not copied: it says when they first came in)")
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
    add_boleto_cancel(boleto_commands)

    add_bank_file_commands(commands)

    notify = commands.add_parser("notify", help="send pending notices (or, with --retry-failed, failed ones)")
    notify.add_argument("--retry-failed", action="store_true", help="re-send only the notices that failed")
    notify.add_argument("--file", help=FILE_ID_HELP)
    notify.set_defaults(handler=_resolving_file(_notify))

    add_reminder_commands(commands)

    outbox = commands.add_parser("outbox", help="notices by state")
    outbox.add_argument("--file", help=FILE_ID_HELP)
    outbox.add_argument("--json", action="store_true")
    outbox.set_defaults(handler=_resolving_file(_outbox))

    files = commands.add_parser("files", help="the files in the store, newest first; `files show ID`: one file")
    files.add_argument("--status", choices=[status.value for status in FileStatus], help="only files in this status")
    files.add_argument("--limit", type=_at_least_zero, default=50, metavar="N",
                       help="the newest N files (default 50; 0: every file)")
    files.add_argument("--json", action="store_true", help="print one JSON list")
    files.set_defaults(handler=_files)
    files_commands = files.add_subparsers(dest="files_command", metavar="show")
    file_show = files_commands.add_parser("show", help="one file: its arrivals, chunks, rejects, notices, outputs")
    file_show.add_argument("file_id", metavar="FILE_ID", help="the file's sha256, or a unique prefix of it")
    file_show.add_argument("--json", action="store_true", help="print one JSON object")
    file_show.set_defaults(handler=_file_show)

    pools = commands.add_parser(
        "pools", help="set each concurrency pool's default limit where none is set yet; print the limits")
    pools.add_argument("--set", action="append", type=_pool_limit, metavar="POOL=N",
                       help="set this pool's limit even if one is set (repeatable)")
    pools.set_defaults(handler=_pools)

    dev = commands.add_parser("dev", help="Dagster webserver + daemon (and the HTTP API) on the configured store")
    dev.add_argument("--port", type=int, default=3000)
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--api-port", type=_port, default=None, help="port of the HTTP API (default BILLING_API_PORT)")
    dev.add_argument("--no-api", action="store_true", help="do not start the HTTP API")
    dev.set_defaults(handler=_dev)

    api = commands.add_parser("api", help="the HTTP API: upload files, follow them, boletos, /health, /metrics")
    api.add_argument("--host", default=None, help="address to listen on (default BILLING_API_HOST)")
    api.add_argument("--port", type=_port, default=None, help="port to listen on (default BILLING_API_PORT)")
    api.set_defaults(handler=_api)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:  # `billing files | head`: the reader had enough; nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush fails no more
        return 128 + signal.SIGPIPE
    except (CommandError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # the store or the bucket unreachable, a full disk: say so in one line
        from sqlalchemy.exc import SQLAlchemyError

        from billing_pipeline.stages import StorageUnavailable

        if isinstance(error, StorageUnavailable):
            print(f"error: {error}", file=sys.stderr)
            return 2
        if isinstance(error, SQLAlchemyError | OSError):
            print(f"error: {type(error).__name__}: {str(error).splitlines()[0]}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
