-- When the file's final report was written. The report sensor looks only at files without one, so its cost per
-- tick follows the files still in flight, not every file ever processed.
ALTER TABLE source_files ADD COLUMN reported_at TIMESTAMPTZ;

-- Files already finished had their report requested by the sensor when they finished (it asked once per file):
-- recorded as reported, or the sensor would look at every one of them on every tick again.
UPDATE source_files SET reported_at = COALESCE(processed_at, registered_at)
WHERE status = 'rejected' OR (status = 'processed'
  AND NOT EXISTS (SELECT 1 FROM outbox o JOIN chunks c ON c.chunk_key = o.chunk_key
                  WHERE c.file_id = source_files.file_id AND o.status = 'pending')
  AND accepted = (SELECT COUNT(*) FROM outbox o JOIN chunks c ON c.chunk_key = o.chunk_key
                  WHERE c.file_id = source_files.file_id AND o.notice_kind = 'boleto_issued'));
