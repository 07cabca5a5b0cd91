-- The boleto's life with the bank: what it was sent in (remessas), what the bank answered (retorno_files, their
-- lines that matched no boleto), every event in order (boleto_events, append-only) and where each boleto stands
-- now (boleto_states).
--
-- A boleto without a boleto_states row is 'issued': creating boletos, the hot path, writes nothing here. As 0005
-- did for boletos, these tables carry no foreign keys: their rows are written in bulk from boletos read in the same
-- transaction, and nothing deletes a boleto; the triggers would be most of the cost of a million-title remessa.
CREATE TABLE boleto_states (
    debt_id            TEXT           PRIMARY KEY,
    status             TEXT           NOT NULL CHECK (status IN ('issued', 'registration_sent', 'registered',
                                                     'registration_rejected', 'paid', 'written_off', 'protested')),
    amount_paid        NUMERIC(12, 2),
    paid_on            DATE,
    credited_on        DATE,
    fees               NUMERIC(12, 2),
    entrada_nsa        INTEGER,         -- the remessa that sent the entrada (its registration_sent event)
    entrada_line       INTEGER,         -- the entrada's P segment in that remessa
    baixa_requested_at TIMESTAMP,       -- an operator cancelled it: a baixa goes out in the next remessa
    baixa_nsa          INTEGER,         -- the remessa that sent the baixa
    updated_at         TIMESTAMP      NOT NULL DEFAULT CURRENT_TIMESTAMP
);
-- The baixas still to send: a handful among millions of states.
CREATE INDEX boleto_states_pending_baixa ON boleto_states (debt_id)
    WHERE baixa_requested_at IS NOT NULL AND baixa_nsa IS NULL;

-- What happened to each boleto, append-only. A remessa's entradas are not here: their registration_sent event is
-- the state's entrada_nsa and entrada_line with the remessa's row (a million-title remessa writes no events). A
-- retorno's lines are written once because a retorno is applied once: in one transaction holding its
-- retorno_files row, whose status then says processed.
CREATE TABLE boleto_events (
    id            INTEGER PRIMARY KEY,
    debt_id       TEXT           NOT NULL,
    kind          TEXT           NOT NULL CHECK (kind IN ('registration_sent', 'registered', 'registration_rejected',
                                                'paid', 'written_off', 'protested', 'baixa_requested', 'baixa_sent',
                                                'protest_sent', 'instruction_rejected', 'fees_debited', 'other')),
    -- The status the event moved the boleto to; NULL when it moved nothing (a repeated or late answer, fees...).
    status        TEXT           CHECK (status IN ('issued', 'registration_sent', 'registered',
                                                   'registration_rejected', 'paid', 'written_off', 'protested')),
    movement_code TEXT,                    -- the retorno's C044 code, and its C047 reasons: their texts come
    reasons       TEXT,                    -- from cnab.codes when the events are shown
    amount_paid   NUMERIC(12, 2),
    paid_on       DATE,
    credited_on   DATE,
    fees          NUMERIC(12, 2),
    source_kind   TEXT           NOT NULL CHECK (source_kind IN ('remessa', 'retorno', 'command')),
    source        TEXT           NOT NULL, -- a remessa's file name, a retorno's sha256, a command's name
    line_number   INTEGER,                 -- the P (remessa) or T (retorno) line
    recorded_at   TIMESTAMP      NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX boleto_events_debt_id ON boleto_events (debt_id);

CREATE TABLE remessas (
    id              INTEGER PRIMARY KEY,
    account_key     TEXT        NOT NULL,
    bank_code       CHAR(3)     NOT NULL,
    nsa             INTEGER     NOT NULL,
    file_name       TEXT        NOT NULL UNIQUE,
    path            TEXT        NOT NULL,
    entradas        INTEGER     NOT NULL,
    baixas          INTEGER     NOT NULL,
    lines           INTEGER     NOT NULL,
    missing_address INTEGER     NOT NULL,
    created_at      TIMESTAMP   NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (account_key, nsa)
);

CREATE TABLE retorno_files (
    file_id         CHAR(64)    PRIMARY KEY,
    original_name   TEXT        NOT NULL,
    size_bytes      BIGINT      NOT NULL,
    bank_code       TEXT,
    nsa             INTEGER,
    generated_on    DATE,
    kind            TEXT,
    status          TEXT        NOT NULL DEFAULT 'registered'
                    CHECK (status IN ('registered', 'processed', 'rejected')),
    titles          INTEGER,
    applied         INTEGER,
    already_applied INTEGER,
    unmatched       INTEGER,
    warnings        TEXT,       -- a JSON list of sentences
    error_code      TEXT,
    error_message   TEXT,
    registered_at   TIMESTAMP   NOT NULL DEFAULT CURRENT_TIMESTAMP,
    moved           INTEGER,
    by_movement     TEXT,       -- JSON: the import's figures, for an import asked again
    by_status       TEXT,       -- JSON
    processed_at    TIMESTAMP,
    received_via    TEXT        NOT NULL CHECK (received_via IN ('inbox', 'process')),
    -- The records themselves, whatever their line ends, blanks or encoding: the same retorno saved otherwise.
    content_key     TEXT
);

-- A retorno's lines that name no boleto of the account: kept as they came, nothing is lost.
CREATE TABLE retorno_unmatched (
    file_id       CHAR(64) NOT NULL,
    line_number   INTEGER  NOT NULL,
    nosso_numero  TEXT     NOT NULL,
    movement_code TEXT     NOT NULL,
    amount_cents  BIGINT,
    reason        TEXT     NOT NULL,
    raw_line      TEXT     NOT NULL,
    PRIMARY KEY (file_id, line_number)
);
