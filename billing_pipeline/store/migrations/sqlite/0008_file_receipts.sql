-- How the file's bytes first came in. The daemon's sensors follow inbox files only: a file that `billing process`
-- registered is that process's to finish, even on a store the daemon shares.
ALTER TABLE source_files ADD COLUMN received_via TEXT NOT NULL DEFAULT 'inbox'
    CHECK (received_via IN ('inbox', 'process'));

-- Every arrival of a file's bytes, the first one and each re-drop (under any name): a re-drop starts nothing, and
-- this is where it shows.
CREATE TABLE file_receipts (
    id            INTEGER PRIMARY KEY,
    file_id       CHAR(64)  NOT NULL REFERENCES source_files (file_id),
    original_name TEXT      NOT NULL,
    received_via  TEXT      NOT NULL CHECK (received_via IN ('inbox', 'process')),
    received_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX file_receipts_file_id ON file_receipts (file_id);

INSERT INTO file_receipts (file_id, original_name, received_via, received_at)
SELECT file_id, original_name, 'inbox', registered_at FROM source_files ORDER BY seq;
