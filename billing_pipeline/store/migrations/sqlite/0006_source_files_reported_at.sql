-- When the file's final report was written. The report sensor looks only at files without one, so its cost per
-- tick follows the files still in flight, not every file ever processed.
ALTER TABLE source_files ADD COLUMN reported_at TIMESTAMP;
