-- The staff console's sign-ins (issue 13): a console sign-in is a staff session like an API
-- sign-in, with the hash of its cookie's token (SHA-256, hex; the token itself is only ever in
-- the browser) and when it was last used, for the idle timeout (`console.idle_minutes`).
-- Ending the session (sign-out, idle, password change, deactivation) ends both doors at once.
ALTER TABLE staff_sessions ADD COLUMN console_token_hash TEXT;
ALTER TABLE staff_sessions ADD COLUMN last_seen_at TIMESTAMP;
CREATE UNIQUE INDEX staff_sessions_console_token ON staff_sessions (console_token_hash);
