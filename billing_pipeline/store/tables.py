"""SQLAlchemy Core tables mirroring migrations/<dialect>/*.sql (a test compares them with the migrated schema)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import postgresql

metadata = MetaData()

DebtId = String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")

source_files = Table(
    "source_files",
    metadata,
    Column("seq", BigInteger, primary_key=True),
    Column("file_id", String(64), nullable=False, unique=True),
    Column("original_name", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("status", Text, nullable=False),
    Column("header", Text),
    Column("data_offset", BigInteger),
    Column("rows", Integer),
    Column("chunk_count", Integer),
    Column("accepted", Integer),
    Column("rejected", Integer),
    Column("duplicates", Integer),
    Column("error_code", Text),
    Column("error_message", Text),
    Column("registered_at", DateTime(timezone=True)),
    Column("split_at", DateTime(timezone=True)),
    Column("processed_at", DateTime(timezone=True)),
    Column("reported_at", DateTime(timezone=True)),
    Column("received_via", Text, nullable=False),
    # The charge policy in force when the file was registered (migration 0012): NULL for a file registered before.
    Column("policy_fine_basis_points", Integer),
    Column("policy_interest_monthly_basis_points", Integer),
    Column("policy_discount_basis_points", Integer),
    Column("policy_discount_days_before_due", Integer),
)

file_receipts = Table(
    "file_receipts",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("file_id", String(64), nullable=False),
    Column("original_name", Text, nullable=False),
    Column("received_via", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("object_version", Text),  # an inbox object's key@LastModified#ETag
)

chunks = Table(
    "chunks",
    metadata,
    Column("seq", BigInteger, primary_key=True),
    Column("chunk_key", Text, nullable=False, unique=True),
    Column("file_id", String(64), nullable=False),
    Column("chunk_no", Integer, nullable=False),
    Column("byte_start", BigInteger, nullable=False),
    Column("byte_end", BigInteger, nullable=False),
    Column("start_line", Integer, nullable=False),
    Column("first_line", Integer, nullable=False),
    Column("last_line", Integer, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("accepted", Integer),
    Column("rejected", Integer),
    Column("duplicates", Integer),
    Column("validated_at", DateTime(timezone=True)),
    Column("loaded_at", DateTime(timezone=True)),
)

line_verdicts = Table(
    "line_verdicts",
    metadata,
    Column("file_id", String(64), primary_key=True),
    Column("line_number", Integer, primary_key=True),
    Column("verdict", Text, nullable=False),
    Column("debt_id", Text, nullable=False),
    Column("first_line", Integer, nullable=False),
)

debts = Table(
    "debts",
    metadata,
    Column("debt_id", DebtId, primary_key=True),
    Column("government_id", String(14), nullable=False),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("file_id", String(64), nullable=False),
    Column("chunk_key", Text, nullable=False),
    Column("line_number", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True)),
    # The optional payer address (migration 0010): NULL when the file or the row has none.
    Column("payer_address", Text),
    Column("payer_district", Text),
    Column("payer_zip_code", Text),  # 8 digits
    Column("payer_city", Text),
    Column("payer_state", Text),  # UF, uppercase
    # The row's own charge terms (migration 0012): NULL where the file's policy holds.
    Column("fine_basis_points", Integer),  # 200 = 2,00 %
    Column("interest_monthly_basis_points", Integer),
    Column("discount_basis_points", Integer),
    Column("discount_until", Date),
)

rejects = Table(
    "rejects",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("file_id", String(64), nullable=False),
    Column("chunk_key", Text),
    Column("stage", Text, nullable=False),
    Column("line_number", Integer, nullable=False),
    Column("column_name", Text, nullable=False),
    Column("code", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("raw_line", Text, nullable=False),
    Column("created_at", DateTime(timezone=True)),
)

sequences = Table(
    "sequences",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

boletos = Table(
    "boletos",
    metadata,
    Column("debt_id", DebtId, primary_key=True),
    Column("chunk_key", Text, nullable=False),
    Column("bank_code", String(3), nullable=False),
    Column("account_key", Text, nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("nosso_numero", Text, nullable=False),
    Column("barcode", String(44), nullable=False),
    Column("linha_digitavel", String(47), nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("original_due_date", Date, nullable=False),
    Column("created_at", DateTime(timezone=True)),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("debt_id", DebtId, nullable=False),
    Column("notice_kind", Text, nullable=False),
    Column("chunk_key", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
)

# The boleto lifecycle (migration 0011): no row in boleto_states means the boleto is 'issued'.
boleto_states = Table(
    "boleto_states",
    metadata,
    Column("debt_id", DebtId, primary_key=True),
    Column("status", Text, nullable=False),
    Column("amount_paid", Numeric(12, 2)),
    Column("paid_on", Date),
    Column("credited_on", Date),
    Column("fees", Numeric(12, 2)),
    Column("entrada_nsa", Integer),
    Column("entrada_line", Integer),
    Column("baixa_requested_at", DateTime(timezone=True)),
    Column("baixa_nsa", Integer),
    Column("updated_at", DateTime(timezone=True)),
)

boleto_events = Table(
    "boleto_events",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("debt_id", DebtId, nullable=False),
    Column("kind", Text, nullable=False),
    Column("status", Text),
    Column("movement_code", Text),
    Column("reasons", Text),
    Column("amount_paid", Numeric(12, 2)),
    Column("paid_on", Date),
    Column("credited_on", Date),
    Column("fees", Numeric(12, 2)),
    Column("source_kind", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("line_number", Integer),
    Column("recorded_at", DateTime(timezone=True)),
)

remessas = Table(
    "remessas",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("account_key", Text, nullable=False),
    Column("bank_code", String(3), nullable=False),
    Column("nsa", Integer, nullable=False),
    Column("file_name", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("entradas", Integer, nullable=False),
    Column("baixas", Integer, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("missing_address", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True)),
)

retorno_files = Table(
    "retorno_files",
    metadata,
    Column("file_id", String(64), primary_key=True),
    Column("original_name", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("bank_code", Text),
    Column("nsa", Integer),
    Column("generated_on", Date),
    Column("kind", Text),
    Column("status", Text, nullable=False),
    Column("titles", Integer),
    Column("applied", Integer),
    Column("already_applied", Integer),
    Column("unmatched", Integer),
    Column("warnings", Text),  # a JSON list
    Column("error_code", Text),
    Column("error_message", Text),
    Column("moved", Integer),
    Column("by_movement", Text),  # JSON
    Column("by_status", Text),  # JSON
    Column("registered_at", DateTime(timezone=True)),
    Column("processed_at", DateTime(timezone=True)),
    Column("received_via", Text, nullable=False),
    Column("content_key", Text),
)

retorno_unmatched = Table(
    "retorno_unmatched",
    metadata,
    Column("file_id", String(64), primary_key=True),
    Column("line_number", Integer, primary_key=True),
    Column("nosso_numero", Text, nullable=False),
    Column("movement_code", Text, nullable=False),
    Column("amount_cents", BigInteger),
    Column("reason", Text, nullable=False),
    Column("raw_line", Text, nullable=False),
)

# Reminders, the régua (migration 0013): outbox rows of reminder kinds wait for the quiet hours' end in not_before.
outbox.append_column(Column("not_before", DateTime(timezone=True)))

reminder_optouts = Table(
    "reminder_optouts",
    metadata,
    Column("email", Text, primary_key=True),
    Column("opted_out_at", DateTime(timezone=True), nullable=False),
)

reminder_runs = Table(
    "reminder_runs",
    metadata,
    Column("day", Date, primary_key=True),
    Column("covered_from", Date, nullable=False),
    Column("requested_for", Date, nullable=False),
    Column("created", Integer, nullable=False),
    Column("ran_at", DateTime(timezone=True), nullable=False),
)
