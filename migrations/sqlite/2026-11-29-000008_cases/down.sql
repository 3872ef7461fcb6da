DROP INDEX reports_case;
ALTER TABLE reports DROP COLUMN triaged_by;
ALTER TABLE reports DROP COLUMN triaged_at;
ALTER TABLE reports DROP COLUMN triage_reason;
ALTER TABLE reports DROP COLUMN triage_to_body;
ALTER TABLE reports DROP COLUMN triage_action;
ALTER TABLE reports DROP COLUMN case_id;
DROP TABLE case_notes;
DROP TABLE cases;
