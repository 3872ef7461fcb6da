-- Reference data: administrative divisions (统计用区划代码) and officials.
CREATE TABLE divisions (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- county | township | village
    level TEXT NOT NULL,
    parent_code TEXT REFERENCES divisions(code),
    -- Loaded by `probity demo-data`: illustrative, not official.
    demo BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX divisions_parent ON divisions (parent_code);

CREATE TABLE officials (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    post TEXT NOT NULL,
    -- village | township | county
    level TEXT NOT NULL,
    division_code TEXT NOT NULL REFERENCES divisions(code),
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX officials_division ON officials (division_code);

-- Named counters, e.g. report numbers per year. Incremented inside the write transaction.
CREATE TABLE counters (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);

-- Reports as submitted: immutable. Identity fields are XChaCha20-Poly1305 ciphertexts under the
-- data key with "report:<id>:<field>" as associated data.
CREATE TABLE reports (
    id TEXT PRIMARY KEY NOT NULL,
    number TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    programme TEXT NOT NULL,
    misconduct TEXT NOT NULL,
    township_code TEXT NOT NULL REFERENCES divisions(code),
    village_code TEXT NOT NULL REFERENCES divisions(code),
    accused TEXT NOT NULL,
    description TEXT NOT NULL,
    occurred_from DATE,
    occurred_to DATE,
    anonymous BOOLEAN NOT NULL,
    reporter_name BLOB,
    reporter_id_number BLOB,
    reporter_phone BLOB,
    reporter_email BLOB,
    reporter_address BLOB,
    -- Argon2id of the receipt code under the deployment's receipt salt: looked up, never reversed.
    receipt_hash TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    triage_due DATE NOT NULL,
    acknowledge_by DATE,
    logged_by TEXT REFERENCES users(id)
);
CREATE INDEX reports_status ON reports (status, submitted_at);

-- The thread between reporter and staff. Internal notes never live here.
CREATE TABLE report_messages (
    id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports(id),
    -- reporter | staff
    author_kind TEXT NOT NULL,
    author_id TEXT,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX report_messages_report ON report_messages (report_id, created_at);

-- Evidence files, encrypted on disk under a random name; never the client's file name.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES reports(id),
    storage_name TEXT NOT NULL UNIQUE,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    -- reporter | staff
    uploaded_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_report ON attachments (report_id);

-- Idempotent submissions: the saved response is encrypted under the data key and deleted when
-- the replay window ends.
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, idem_key)
);
CREATE INDEX idempotency_expiry ON idempotency_keys (expires_at);
