DROP TABLE outbox;
DROP TABLE audit_chain_head;
DROP TABLE audit_events;
DROP TABLE user_roles;
DROP TABLE users;
