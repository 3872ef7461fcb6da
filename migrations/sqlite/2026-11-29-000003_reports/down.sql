DROP TABLE idempotency_keys;
DROP TABLE attachments;
DROP TABLE report_messages;
DROP TABLE reports;
DROP TABLE counters;
DROP TABLE officials;
DROP TABLE divisions;
