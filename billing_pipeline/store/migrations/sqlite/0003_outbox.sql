-- Notices to debtors: one row per (debt, notice kind), written with the boleto; sent at most once per row.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    debt_id      TEXT      NOT NULL REFERENCES debts (debt_id),
    notice_kind  TEXT      NOT NULL,
    chunk_key    TEXT      NOT NULL REFERENCES chunks (chunk_key),
    recipient    TEXT      NOT NULL,
    message_id   TEXT      NOT NULL UNIQUE,
    status       TEXT      NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'suppressed')),
    attempts     INTEGER   NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    sent_at      TIMESTAMP,
    UNIQUE (debt_id, notice_kind)
);
CREATE INDEX outbox_chunk_status ON outbox (chunk_key, status);
