-- Objections (异议) of a reporter to the result fed back to them (SPEC.md → "Real-name
-- reporters"; issue 10, item 6). One objection answers one feedback message of its report; it
-- is handled within 15 working days of the county date it was received (due_on), and the
-- case's queue deadline (cases.due_on) includes the due_on of its open objections.
CREATE TABLE objections (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    report_id TEXT NOT NULL REFERENCES reports(id),
    -- The feedback message (kind 'feedback') this objection answers.
    feedback_message_id TEXT NOT NULL REFERENCES report_messages(id),
    body TEXT NOT NULL,
    -- County date: 15 working days after the county date of receipt.
    due_on DATE NOT NULL,
    -- open | decided (domain::objection::ObjectionStatus)
    status TEXT NOT NULL,
    -- How a decided objection was handled: case_reopened.
    outcome TEXT,
    created_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES users(id),
    decided_at TIMESTAMP
);
CREATE INDEX objections_case ON objections (case_id, status, due_on);
CREATE INDEX objections_report ON objections (report_id, created_at);
CREATE INDEX objections_list ON objections (status, created_at, id);
CREATE INDEX objections_all ON objections (created_at, id);
