ALTER TABLE reports DROP COLUMN acknowledged_at;
DROP INDEX report_messages_case_kind;
ALTER TABLE report_messages DROP COLUMN case_id;
ALTER TABLE report_messages DROP COLUMN kind;
