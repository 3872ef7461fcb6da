-- The custodian workflow for reporter identity (SPEC.md → "Reporter identity (custodian)";
-- issue 9, item 8). A staff member asks with a reason; a supervisor who is not the requester
-- decides; an approval lets the requester alone read the identity of the case's real-name
-- reports until expires_at (24 h). Every read is one row of identity_disclosures per report.
CREATE TABLE identity_requests (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    requester_id TEXT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    -- pending | approved | denied (domain::custody::RequestStatus)
    status TEXT NOT NULL,
    decided_by TEXT REFERENCES users(id),
    decision_reason TEXT,
    decided_at TIMESTAMP,
    -- Approved requests only: decided_at + 24 h (UTC).
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX identity_requests_case ON identity_requests (case_id, requester_id, status);

CREATE TABLE identity_disclosures (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES identity_requests(id),
    report_id TEXT NOT NULL REFERENCES reports(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    to_user_id TEXT NOT NULL REFERENCES users(id),
    at TIMESTAMP NOT NULL
);
CREATE INDEX identity_disclosures_case ON identity_disclosures (case_id, at);
CREATE INDEX identity_disclosures_report ON identity_disclosures (report_id, at);
