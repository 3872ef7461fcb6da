-- The kind of a message in a report's thread (SPEC.md → "Case handling", POST /cases/{id}/messages;
-- issue 9). Staff write `question | acknowledgement | feedback`; a reporter's own messages are
-- `reply`. Messages written before this migration were reporter replies or staff questions.
ALTER TABLE report_messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'reply';
UPDATE report_messages SET kind = 'question' WHERE author_kind = 'staff';
-- Which case message (one per case, sent to every named report) a row belongs to.
ALTER TABLE report_messages ADD COLUMN case_id TEXT REFERENCES cases(id);
CREATE INDEX report_messages_case_kind ON report_messages (case_id, kind);
-- When a real-name report was first acknowledged (a staff message of kind `acknowledgement`):
-- its acknowledge_by deadline stops running then.
ALTER TABLE reports ADD COLUMN acknowledged_at TIMESTAMP;
