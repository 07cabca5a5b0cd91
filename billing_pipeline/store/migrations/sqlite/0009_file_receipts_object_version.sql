-- The inbox object a receipt was made for, when it came from a bucket: its key, LastModified and ETag. The bucket
-- inbox archives, registers, then deletes the object; a crash before the delete leaves the very same object to be
-- found again, and this is how its second look is told from a new upload of the same bytes (a re-drop).
ALTER TABLE file_receipts ADD COLUMN object_version TEXT;
