-- One row per staff sign-in (a refresh-token family shares its id). Access tokens carry it as
-- `sid`; every request checks the row is not ended, so any sign-out takes effect at once.
CREATE TABLE staff_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);
