"""Notices per second to a local aiosmtpd sink (in its own process): the whole notification stage (compose with
the PDF attached, send, mark the outbox row) vs a bare smtplib loop sending the same, already built, messages over
one connection.

    python -m bench.notifications [--messages 2000] [--database-url URL]

Target (issue "Notifications"): >= 80% of the bare loop.
"""

from __future__ import annotations

import argparse
import smtplib
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from billing_pipeline import stages
from billing_pipeline.ingest.inbox import submit
from billing_pipeline.mail.compose import compose
from billing_pipeline.sample import write_sample
from billing_pipeline.settings import Settings
from billing_pipeline.stages.notify import attachments_for, notice_for, notify_stage
from billing_pipeline.store import outbox
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import upgrade
from billing_pipeline_tests.support.smtp import SmtpProcess


def pending_again(engine, chunk_key: str) -> None:
    """Make a chunk's notices pending again, so the next round sends them anew (the product never re-sends)."""
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE outbox SET status = 'pending', attempts = 0, sent_at = NULL WHERE chunk_key = :key"),
            {"key": chunk_key},
        )


def start_sink() -> SmtpProcess:
    """aiosmtpd in a process of its own that accepts every message and keeps none."""
    sink = SmtpProcess()
    sink.start()
    return sink


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--database-url", help="the store (default: a temporary SQLite file)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    sink = start_sink()
    port = sink.port
    try:
        settings = Settings.from_env({}, data_dir=work / "data",
                                     database_url=args.database_url or f"sqlite:///{work / 'billing.db'}")
        settings = settings.replace(smtp_url=f"smtp://127.0.0.1:{port}", smtp_rate=0,
                                       chunk_rows=args.messages)
        settings.ensure_dirs()
        engine = create_store_engine(settings.database_url)
        upgrade(engine)
        source = work / "debts.csv"
        write_sample(source, rows=args.messages, seed=3)
        registration = stages.register_stage(engine, settings, submit(source, settings.inbox_dir))
        [key] = stages.split_stage(engine, settings, registration.file_id).chunk_keys
        stages.load_stage(engine, settings, key, stages.validate_stage(engine, settings, key).accepted)
        stages.boleto_stage(engine, settings, key)
        stages.pdf_stage(engine, settings, key)

        outbox.create_rows(engine, chunk_key=key)  # as delivery does first
        rows = outbox.rows_to_send(engine, chunk_key=key)
        attachments = attachments_for(engine, settings)
        built = [compose(notice_for(row), row.message_id, settings.mail_from, settings.beneficiary_name,
                         settings.beneficiary_contact, settings.is_demo_account,
                         attachments.pdf(row.chunk_key, row.boleto.debt_id)) for row in rows]
        attachments.close()

        bare_rounds, our_rounds = [], []
        for _ in range(args.rounds):  # interleaved, so both see the same machine; the best round of each counts
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port) as connection:
                for message in built:
                    connection.sendmail(message.sender, [message.recipient], message.data)
            bare_rounds.append(len(built) / (time.perf_counter() - started))

            pending_again(engine, key)
            outcome = notify_stage(engine, settings, chunk_key=key)
            assert outcome.sent == len(rows)
            our_rounds.append(outcome.per_second)
        bare, ours = max(bare_rounds), max(our_rounds)
        size = sum(len(m.data) for m in built) / len(built)
        print(f"{len(rows):,} messages of {size / 1024:.1f} KB to aiosmtpd (own process); store "
              f"{engine.dialect.name}; best of {args.rounds} interleaved rounds")
        print(f"{'method':<58}{'messages/s':>12}{'ratio':>8}   rounds")
        print(f"{'bare smtplib loop, pre-built messages, one connection':<58}{bare:>12,.0f}{1:>8.2f}   "
              + " ".join(f"{r:.0f}" for r in bare_rounds))
        print(f"{'notification stage: compose + PDF + send + mark outbox':<58}{ours:>12,.0f}{ours / bare:>8.2f}   "
              + " ".join(f"{r:.0f}" for r in our_rounds))
        engine.dispose()
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
