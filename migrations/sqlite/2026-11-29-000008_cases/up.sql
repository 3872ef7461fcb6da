-- Cases (案件): what the commission works, made by accepting a report (issue 9). One or more
-- reports belong to a case (reports.case_id); a merged report joins an open case.
CREATE TABLE cases (
    id TEXT PRIMARY KEY NOT NULL,
    -- AJ-<year>-<6 digits>, from the counter "case_number:<year>".
    number TEXT NOT NULL UNIQUE,
    -- domain::case_status::CaseStatus
    status TEXT NOT NULL,
    -- Optimistic concurrency: every change is UPDATE ... WHERE version = ? and adds one.
    version INTEGER NOT NULL,
    programme TEXT NOT NULL,
    township_code TEXT NOT NULL REFERENCES divisions(code),
    village_code TEXT NOT NULL REFERENCES divisions(code),
    -- village | township | county (above_county and commission_head are never accepted, Art 15)
    subject_level TEXT NOT NULL,
    -- JSON array of official ids named at acceptance.
    accused_official_ids TEXT NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams(id),
    assignee_id TEXT REFERENCES users(id),
    -- domain::case_status::Disposition, once given (Art 17).
    disposition TEXT,
    disposition_reason TEXT,
    review_on DATE,
    verification_due DATE,
    filing_decided_by TEXT REFERENCES users(id),
    filing_decided_at TIMESTAMP,
    filing_decision_reason TEXT,
    -- Copied from the accepted report: its triage date, and the earliest acknowledgement date
    -- of its real-name reports (cleared once acknowledged).
    triage_due DATE NOT NULL,
    acknowledge_by DATE,
    feedback_due DATE,
    -- The earliest open deadline, kept on every write so the queue sorts and pages by it;
    -- 9999-12-31 when there is none.
    due_on DATE NOT NULL,
    -- When the first report of the case was received.
    received_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cases_due ON cases (due_on, number);
CREATE INDEX cases_received ON cases (received_at, number);
CREATE INDEX cases_updated ON cases (updated_at, number);
CREATE INDEX cases_team_due ON cases (team_id, due_on, number);
CREATE INDEX cases_assignee_due ON cases (assignee_id, due_on, number);
CREATE INDEX cases_village ON cases (village_code, programme, created_at);

-- Internal notes on a case: staff only, never shown to a reporter. Never deleted.
CREATE TABLE case_notes (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    author_id TEXT NOT NULL REFERENCES users(id),
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX case_notes_case ON case_notes (case_id, created_at);

-- Triage facts on the report, so the reporter's view can say what became of it.
ALTER TABLE reports ADD COLUMN case_id TEXT REFERENCES cases(id);
-- accept | transfer | merge | escalate
ALTER TABLE reports ADD COLUMN triage_action TEXT;
ALTER TABLE reports ADD COLUMN triage_to_body TEXT;
ALTER TABLE reports ADD COLUMN triage_reason TEXT;
ALTER TABLE reports ADD COLUMN triaged_at TIMESTAMP;
ALTER TABLE reports ADD COLUMN triaged_by TEXT;
CREATE INDEX reports_case ON reports (case_id);
