CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    template TEXT NOT NULL,
    recipient TEXT NOT NULL,
    data TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

INSERT INTO outbox (id, template, recipient, data, status, attempts, next_attempt_at,
                    locked_until, last_error, created_at, sent_at)
SELECT id, json_extract(payload, '$.template'), json_extract(payload, '$.recipient'),
       json_extract(payload, '$.data'),
       CASE status WHEN 'done' THEN 'sent' WHEN 'running' THEN 'pending' ELSE status END,
       attempts, run_at, locked_until, last_error, created_at, finished_at
FROM jobs WHERE kind = 'email';

DROP TABLE jobs;
