-- One table of background jobs (issue 8): the outbox becomes the `email` kind.
-- `period` is set for recurring jobs only; UNIQUE (kind, period) makes "once per period" hold
-- across any number of instances (NULLs never clash, so one-off jobs are unconstrained).
-- `max_attempts` NULL means the configured `jobs.max_attempts`; `run_at` NULL means "as soon as
-- possible" (set when a retry is backed off, or for a job queued to run later).
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER,
    run_at TIMESTAMP,
    locked_until TIMESTAMP,
    last_error TEXT,
    period TEXT,
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    UNIQUE (kind, period)
);
CREATE INDEX jobs_due ON jobs (status, run_at);

-- Every outbox row moves over, pending ones included, keeping its id (and so its Message-ID).
INSERT INTO jobs (id, kind, payload, status, attempts, max_attempts, run_at, locked_until,
                  last_error, period, created_at, finished_at)
SELECT id, 'email',
       json_object('template', template, 'recipient', recipient, 'data', json(data)),
       CASE status WHEN 'sent' THEN 'done' ELSE status END,
       attempts, NULL, next_attempt_at, locked_until, last_error, NULL, created_at, sent_at
FROM outbox;

DROP TABLE outbox;
