-- Boletos: one per debt, numbered from a per-account nosso número sequence that never repeats.
CREATE TABLE sequences (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);

CREATE TABLE boletos (
    debt_id           TEXT           PRIMARY KEY REFERENCES debts (debt_id),
    chunk_key         TEXT           NOT NULL REFERENCES chunks (chunk_key),
    bank_code         TEXT           NOT NULL,
    account_key       TEXT           NOT NULL,
    sequence          INTEGER        NOT NULL,
    nosso_numero      TEXT           NOT NULL,
    barcode           TEXT           NOT NULL UNIQUE,
    linha_digitavel   TEXT           NOT NULL,
    amount            NUMERIC(12, 2) NOT NULL,
    due_date          DATE           NOT NULL,
    original_due_date DATE           NOT NULL,
    created_at        TIMESTAMP      NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (account_key, sequence)
);
CREATE INDEX boletos_chunk_key ON boletos (chunk_key);
