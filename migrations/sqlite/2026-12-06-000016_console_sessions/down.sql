DROP INDEX staff_sessions_console_token;
ALTER TABLE staff_sessions DROP COLUMN last_seen_at;
ALTER TABLE staff_sessions DROP COLUMN console_token_hash;
