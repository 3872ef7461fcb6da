ALTER TABLE attachments DROP COLUMN metadata_removed;
