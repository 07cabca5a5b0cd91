-- Reminders (the régua): more notices per debt in the outbox, one per (debt, reminder kind), kinds such as
-- reminder_d-3 or reminder_d+7; the first notice stays 'boleto_issued'.
--
-- not_before holds a reminder created inside the quiet hours until they end (NULL: send at once).
ALTER TABLE outbox ADD COLUMN not_before TIMESTAMPTZ;

-- Every per-chunk reader (file progress, listings, metrics, the finished test) is about the first notice: its
-- index holds first notices only, so those readers keep their index-only scans and reminders never make a
-- finished file look unfinished. The reminders waiting to go out have their own small index.
DROP INDEX outbox_chunk_status;
CREATE INDEX outbox_chunk_status ON outbox (chunk_key, status) WHERE notice_kind = 'boleto_issued';
CREATE INDEX outbox_reminders_pending ON outbox (status, not_before) WHERE notice_kind <> 'boleto_issued';

-- Debtors who asked for no more reminders (`billing optout EMAIL`), by lower-cased address. The first notice
-- of a new boleto still goes out: it is the bill itself.
CREATE TABLE reminder_optouts (
    email         TEXT      PRIMARY KEY,
    opted_out_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per reminder run that covered days: the days from covered_from to day were looked at, so a later run
-- for any of them does nothing (a missed day is caught up once, by the next run).
CREATE TABLE reminder_runs (
    day           DATE      PRIMARY KEY,
    covered_from  DATE      NOT NULL,
    requested_for DATE      NOT NULL,
    created       INTEGER   NOT NULL,
    ran_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
