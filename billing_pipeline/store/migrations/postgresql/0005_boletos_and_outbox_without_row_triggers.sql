-- As 0004 did for debts: boletos and outbox rows are written from debts (and boletos) read in the same
-- transaction, for a chunk row that exists, and nothing ever deletes a debt, a boleto or a chunk; their four
-- foreign keys cost four trigger calls per boleto. message_id is a pure function of (debt_id, notice_kind),
-- which stays UNIQUE, so its own unique index only doubled the index work. Together these were most of the
-- boleto stage (measured here with bench.chunk_stages, 2026-11-29).
ALTER TABLE boletos DROP CONSTRAINT IF EXISTS boletos_debt_id_fkey;
ALTER TABLE boletos DROP CONSTRAINT IF EXISTS boletos_chunk_key_fkey;
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_debt_id_fkey;
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_chunk_key_fkey;
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_message_id_key;
