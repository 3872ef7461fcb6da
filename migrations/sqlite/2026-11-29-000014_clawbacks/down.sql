ALTER TABLE officials DROP COLUMN email;
ALTER TABLE cases DROP COLUMN clawback_due;
DROP TABLE recoveries;
DROP TABLE clawback_amendments;
DROP TABLE clawback_signers;
DROP TABLE clawbacks;
