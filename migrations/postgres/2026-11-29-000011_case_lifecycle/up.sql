-- The case lifecycle (issue 10; SPEC.md rule 2, "Investigation", "Outcomes", "Case handling"):
-- the investigations a filing opens (一案双查), their conclusions, sanctions and
-- false-accusation findings, the village suspension filing opens with its history, the
-- clawback statement, and the remediation items the closing guard reads. Nothing here is ever
-- deleted: a reopened investigation keeps its earlier conclusions.

-- The earliest due date of the case's open investigations (counted in cases.due_on while the
-- case is filed), and who closed the case, when and why (cleared again by a reopen; the audit
-- log keeps every close).
ALTER TABLE cases ADD COLUMN investigation_due DATE;
ALTER TABLE cases ADD COLUMN closed_by TEXT REFERENCES users(id);
ALTER TABLE cases ADD COLUMN closed_at TIMESTAMP;
ALTER TABLE cases ADD COLUMN close_reason TEXT;

-- A case's investigations: one primary (the conduct) and, by the escalation map, at most one
-- accountability investigation (the supervisory duty of the leadership one level up).
CREATE TABLE investigations (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    -- primary | accountability
    kind TEXT NOT NULL,
    -- village | township | county: the level looked into, and its division.
    target_level TEXT NOT NULL,
    target_division_code TEXT NOT NULL REFERENCES divisions(code),
    assignee_id TEXT REFERENCES users(id),
    -- Why there is no assignee, or why it is not another investigator (e.g. the team has none).
    assignment_note TEXT,
    due_on DATE NOT NULL,
    -- open | concluded
    status TEXT NOT NULL,
    -- The current conclusion (NULL while open); every conclusion is in investigation_conclusions.
    outcome TEXT,
    findings TEXT,
    concluded_by TEXT REFERENCES users(id),
    concluded_at TIMESTAMP,
    -- Optimistic concurrency, as on cases.
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX investigations_case_kind ON investigations (case_id, kind);
CREATE INDEX investigations_assignee ON investigations (assignee_id, status);

-- The officials an investigation looks into: the accused (primary) or the leaders on record of
-- the target division (accountability).
CREATE TABLE investigation_officials (
    investigation_id TEXT NOT NULL REFERENCES investigations(id),
    official_id TEXT NOT NULL REFERENCES officials(id),
    -- The order they are listed in (the accused as linked; leaders in the order of their posts).
    position INTEGER NOT NULL,
    PRIMARY KEY (investigation_id, official_id)
);

-- Every conclusion of an investigation. A reopen marks the current one reopened; it stays
-- readable with its sanctions.
CREATE TABLE investigation_conclusions (
    id TEXT PRIMARY KEY NOT NULL,
    investigation_id TEXT NOT NULL REFERENCES investigations(id),
    outcome TEXT NOT NULL,
    findings TEXT NOT NULL,
    concluded_by TEXT NOT NULL REFERENCES users(id),
    concluded_at TIMESTAMP NOT NULL,
    reopened_by TEXT REFERENCES users(id),
    reopened_at TIMESTAMP,
    reopen_reason TEXT
);
CREATE INDEX investigation_conclusions_of ON investigation_conclusions (investigation_id, concluded_at);

-- Sanctions decided against officials on record (SPEC.md → "Outcomes").
CREATE TABLE sanctions (
    id TEXT PRIMARY KEY NOT NULL,
    investigation_id TEXT NOT NULL REFERENCES investigations(id),
    conclusion_id TEXT NOT NULL REFERENCES investigation_conclusions(id),
    official_id TEXT NOT NULL REFERENCES officials(id),
    -- organisational | party | government
    category TEXT NOT NULL,
    -- the type within the category (domain::investigation::SANCTION_TYPES)
    sanction_type TEXT NOT NULL,
    decided_on DATE NOT NULL,
    document_number TEXT NOT NULL,
    -- The order within its conclusion, as sent.
    position INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sanctions_investigation ON sanctions (investigation_id);
CREATE INDEX sanctions_official ON sanctions (official_id);

-- A finding that a report was a false accusation (诬告陷害): kept apart, read by supervisors
-- only, and holding nothing about the reporter.
CREATE TABLE false_accusations (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    investigation_id TEXT NOT NULL REFERENCES investigations(id),
    conclusion_id TEXT NOT NULL REFERENCES investigation_conclusions(id),
    reason TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX false_accusations_case ON false_accusations (case_id);

-- A village's benefit suspension (暂停涉农优惠政策), opened by filing a case there. At most one
-- open suspension per village; later filings join it.
CREATE TABLE suspensions (
    id TEXT PRIMARY KEY NOT NULL,
    village_code TEXT NOT NULL REFERENCES divisions(code),
    started_at TIMESTAMP NOT NULL,
    lifted_at TIMESTAMP,
    lifted_by TEXT REFERENCES users(id)
);
CREATE UNIQUE INDEX suspensions_open_village ON suspensions (village_code) WHERE lifted_at IS NULL;
CREATE INDEX suspensions_village ON suspensions (village_code, started_at);

-- The filed cases behind a suspension.
CREATE TABLE suspension_cases (
    suspension_id TEXT NOT NULL REFERENCES suspensions(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    joined_at TIMESTAMP NOT NULL,
    PRIMARY KEY (suspension_id, case_id)
);
CREATE INDEX suspension_cases_case ON suspension_cases (case_id);

-- The history of a suspension: opened | case_joined | lifted.
CREATE TABLE suspension_events (
    id TEXT PRIMARY KEY NOT NULL,
    suspension_id TEXT NOT NULL REFERENCES suspensions(id),
    event TEXT NOT NULL,
    case_id TEXT REFERENCES cases(id),
    actor TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX suspension_events_of ON suspension_events (suspension_id, at);

-- The answer to the clawback question when no clawback is recorded: no improper payment, and
-- why. The closing guard reads the latest (cases::closing::clawback_answered).
CREATE TABLE clawback_statements (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    no_improper_payment BOOLEAN NOT NULL,
    reason TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users(id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX clawback_statements_case ON clawback_statements (case_id, recorded_at);

-- A case's remediation plan (整改), one row per item. Only the closing guard reads it for now;
-- the remediation endpoints come with their own issue.
CREATE TABLE remediation_items (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    description TEXT NOT NULL,
    responsible_unit TEXT NOT NULL,
    due_on DATE NOT NULL,
    -- open | submitted | verified | rejected
    status TEXT NOT NULL,
    evidence TEXT,
    submitted_by TEXT REFERENCES users(id),
    submitted_at TIMESTAMP,
    decided_by TEXT REFERENCES users(id),
    decided_at TIMESTAMP,
    rejection_reason TEXT,
    version INTEGER NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX remediation_items_case ON remediation_items (case_id, status);
