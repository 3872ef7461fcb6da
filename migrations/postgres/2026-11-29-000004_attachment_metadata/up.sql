-- What was removed from each evidence file on intake (issue 7): the kinds of metadata fields,
-- comma-separated and sorted (e.g. `exif,exif.device,exif.gps,xmp`), never their values.
-- Empty when nothing was found or the kind cannot be cleaned (audio, video). Files stored
-- before this migration were not cleaned; they keep ''.
ALTER TABLE attachments ADD COLUMN metadata_removed TEXT NOT NULL DEFAULT '';
