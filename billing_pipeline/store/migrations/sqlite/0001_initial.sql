-- The ingest slice: files, their chunks, file-wide line verdicts, debts and rejects.
-- Same tables as postgresql/0001_initial.sql in SQLite's types: UUIDs and dates as ISO text.
CREATE TABLE source_files (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id       TEXT    NOT NULL UNIQUE,
    original_name TEXT    NOT NULL,
    size_bytes    INTEGER NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'registered'
                  CHECK (status IN ('registered', 'split', 'processed', 'rejected')),
    header        TEXT,
    data_offset   INTEGER,
    rows          INTEGER,
    chunk_count   INTEGER,
    accepted      INTEGER,
    rejected      INTEGER,
    duplicates    INTEGER,
    error_code    TEXT,
    error_message TEXT,
    registered_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    split_at      TIMESTAMP,
    processed_at  TIMESTAMP
);

CREATE TABLE chunks (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_key    TEXT    NOT NULL UNIQUE,
    file_id      TEXT    NOT NULL REFERENCES source_files (file_id),
    chunk_no     INTEGER NOT NULL,
    byte_start   INTEGER NOT NULL,
    byte_end     INTEGER NOT NULL,
    start_line   INTEGER NOT NULL,
    first_line   INTEGER NOT NULL,
    last_line    INTEGER NOT NULL,
    rows         INTEGER NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'validated', 'loaded')),
    accepted     INTEGER,
    rejected     INTEGER,
    duplicates   INTEGER,
    validated_at TIMESTAMP,
    loaded_at    TIMESTAMP,
    UNIQUE (file_id, chunk_no)
);

CREATE TABLE line_verdicts (
    file_id     TEXT    NOT NULL REFERENCES source_files (file_id),
    line_number INTEGER NOT NULL,
    verdict     TEXT    NOT NULL CHECK (verdict IN ('duplicate', 'conflict', 'unterminated')),
    debt_id     TEXT    NOT NULL,
    first_line  INTEGER NOT NULL,
    PRIMARY KEY (file_id, line_number)
);

CREATE TABLE debts (
    debt_id       TEXT           PRIMARY KEY,
    government_id VARCHAR(14)    NOT NULL,
    name          TEXT           NOT NULL,
    email         TEXT           NOT NULL,
    amount        NUMERIC(12, 2) NOT NULL CHECK (amount > 0),
    due_date      DATE           NOT NULL,
    file_id       TEXT           NOT NULL REFERENCES source_files (file_id),
    chunk_key     TEXT           NOT NULL REFERENCES chunks (chunk_key),
    line_number   INTEGER        NOT NULL,
    created_at    TIMESTAMP      NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX debts_chunk_key ON debts (chunk_key);

CREATE TABLE rejects (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id     TEXT    NOT NULL REFERENCES source_files (file_id),
    chunk_key   TEXT,
    stage       TEXT    NOT NULL CHECK (stage IN ('file', 'validate', 'load')),
    line_number INTEGER NOT NULL,
    column_name TEXT    NOT NULL DEFAULT '',
    code        TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    raw_line    TEXT    NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX rejects_file_line ON rejects (file_id, line_number);
CREATE INDEX rejects_chunk_stage ON rejects (chunk_key, stage);
