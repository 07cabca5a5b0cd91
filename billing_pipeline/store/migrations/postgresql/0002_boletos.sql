-- Boletos: one per debt, numbered from a per-account nosso número sequence that never repeats.
CREATE TABLE sequences (
    name  TEXT   PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE boletos (
    debt_id           UUID          PRIMARY KEY REFERENCES debts (debt_id),
    chunk_key         TEXT          NOT NULL REFERENCES chunks (chunk_key),
    bank_code         CHAR(3)       NOT NULL,
    account_key       TEXT          NOT NULL,
    sequence          BIGINT        NOT NULL,
    nosso_numero      TEXT          NOT NULL,
    barcode           CHAR(44)      NOT NULL UNIQUE,
    linha_digitavel   CHAR(47)      NOT NULL,
    amount            NUMERIC(12, 2) NOT NULL,
    due_date          DATE          NOT NULL,
    original_due_date DATE          NOT NULL,
    created_at        TIMESTAMPTZ   NOT NULL DEFAULT now(),
    UNIQUE (account_key, sequence)
);
CREATE INDEX boletos_chunk_key ON boletos (chunk_key);
