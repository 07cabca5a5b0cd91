-- Files already finished had their report requested by the sensor when they finished (it asked once per file):
-- recorded as reported, or the sensor would look at every one of them on every tick again. A file finished
-- without a daemon and never reported gets its report by materializing file_report for it (docs/operations.md).
-- In a migration of its own: 0006's ALTER TABLE holds its table lock only for itself.
UPDATE source_files SET reported_at = COALESCE(processed_at, registered_at)
WHERE reported_at IS NULL AND (status = 'rejected' OR (status = 'processed'
  AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.file_id = source_files.file_id AND c.status <> 'loaded')
  AND NOT EXISTS (SELECT 1 FROM outbox o JOIN chunks c ON c.chunk_key = o.chunk_key
                  WHERE c.file_id = source_files.file_id AND o.status = 'pending')
  AND accepted = (SELECT COUNT(*) FROM outbox o JOIN chunks c ON c.chunk_key = o.chunk_key
                  WHERE c.file_id = source_files.file_id AND o.notice_kind = 'boleto_issued')));
