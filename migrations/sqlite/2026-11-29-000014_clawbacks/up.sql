-- Signer-based clawback (谁签字谁追回,谁签字谁负责; SPEC.md rule 3, issue 11). A clawback is one
-- wrongly granted benefit on a filed case; its signers answer for it jointly. What remains
-- outstanding is derived from the ledger (amount due − Σ recoveries − written off) every time
-- it is read, and never stored.
CREATE TABLE clawbacks (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    -- dibao | house_renovation | poverty_identification
    programme TEXT NOT NULL,
    -- The beneficiary household's village and its township.
    township_code TEXT NOT NULL REFERENCES divisions(code),
    village_code TEXT NOT NULL REFERENCES divisions(code),
    -- Sealed like a reporter's identity (XChaCha20-Poly1305 under the data key, associated data
    -- `clawback:<id>:name` / `clawback:<id>:id_number`).
    beneficiary_name BLOB NOT NULL,
    beneficiary_id_number BLOB NOT NULL,
    -- What staff see of the ID number: 3607**********1234.
    beneficiary_id_masked TEXT NOT NULL,
    grant_period_from DATE NOT NULL,
    grant_period_to DATE NOT NULL,
    -- The amount wrongly paid, in fen, as last corrected (clawback_amendments keeps every
    -- correction with the value before it).
    amount_due_fen BIGINT NOT NULL CHECK (amount_due_fen > 0),
    -- The recovery deadline (county date), as last corrected.
    due_on DATE NOT NULL,
    -- Written off by a supervisor: what was outstanding then. The signers stay liable on record.
    written_off_fen BIGINT NOT NULL DEFAULT 0 CHECK (written_off_fen >= 0),
    write_off_reason TEXT,
    written_off_by TEXT REFERENCES users(id),
    written_off_at TIMESTAMP,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    -- Every change (correction, recovery, write-off) adds one.
    version INTEGER NOT NULL
);
CREATE INDEX clawbacks_case ON clawbacks (case_id);
CREATE INDEX clawbacks_created ON clawbacks (created_at, id);
CREATE INDEX clawbacks_township ON clawbacks (township_code, programme);
CREATE INDEX clawbacks_village ON clawbacks (village_code);

-- The approval chain: fixed once recorded. No endpoint changes or removes a signer, and the
-- triggers below refuse UPDATE and DELETE in the database itself.
CREATE TABLE clawback_signers (
    id TEXT PRIMARY KEY NOT NULL,
    clawback_id TEXT NOT NULL REFERENCES clawbacks(id),
    official_id TEXT NOT NULL REFERENCES officials(id),
    -- village_deliberation | township_review | county_approval
    stage TEXT NOT NULL,
    signed_on DATE NOT NULL,
    -- The order the signers were given in.
    position INTEGER NOT NULL,
    UNIQUE (clawback_id, official_id)
);
CREATE INDEX clawback_signers_official ON clawback_signers (official_id);

-- Corrections: added entries, each with its reason and what changed from what to what (JSON
-- {"amount_due_fen": {"from": .., "to": ..}, ...}). Never changed or removed.
CREATE TABLE clawback_amendments (
    id TEXT PRIMARY KEY NOT NULL,
    clawback_id TEXT NOT NULL REFERENCES clawbacks(id),
    -- 1, 2, 3 … per clawback, in the order the corrections were made.
    position INTEGER NOT NULL,
    reason TEXT NOT NULL,
    changes TEXT NOT NULL,
    amended_by TEXT NOT NULL REFERENCES users(id),
    amended_at TIMESTAMP NOT NULL,
    UNIQUE (clawback_id, position)
);

-- The ledger of recovery payments. Never changed or removed. A reference is unique per
-- clawback: a replay with the same reference records nothing.
CREATE TABLE recoveries (
    id TEXT PRIMARY KEY NOT NULL,
    clawback_id TEXT NOT NULL REFERENCES clawbacks(id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    paid_on DATE NOT NULL,
    -- beneficiary | signer
    payer_kind TEXT NOT NULL,
    -- The signer who paid, for payer_kind = signer.
    payer_official_id TEXT REFERENCES officials(id),
    reference TEXT NOT NULL,
    -- The audit actor: user:<id> or service:<id> (a disbursement system's API key).
    recorded_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (clawback_id, reference)
);

-- The earliest recovery deadline of the case's clawbacks with money outstanding; part of the
-- case's earliest running deadline (cases.due_on), so overdue clawbacks reach the queue and
-- the daily reminders.
ALTER TABLE cases ADD COLUMN clawback_due DATE;

-- An official's address, for telling signers that a clawback names them. Optional.
ALTER TABLE officials ADD COLUMN email TEXT;

-- Append-only: signers, corrections and recoveries are never changed or removed.
CREATE TRIGGER clawback_signers_no_update BEFORE UPDATE ON clawback_signers
BEGIN SELECT RAISE(ABORT, 'clawback_signers is append-only'); END;
CREATE TRIGGER clawback_signers_no_delete BEFORE DELETE ON clawback_signers
BEGIN SELECT RAISE(ABORT, 'clawback_signers is append-only'); END;
CREATE TRIGGER clawback_amendments_no_update BEFORE UPDATE ON clawback_amendments
BEGIN SELECT RAISE(ABORT, 'clawback_amendments is append-only'); END;
CREATE TRIGGER clawback_amendments_no_delete BEFORE DELETE ON clawback_amendments
BEGIN SELECT RAISE(ABORT, 'clawback_amendments is append-only'); END;
CREATE TRIGGER recoveries_no_update BEFORE UPDATE ON recoveries
BEGIN SELECT RAISE(ABORT, 'recoveries is append-only'); END;
CREATE TRIGGER recoveries_no_delete BEFORE DELETE ON recoveries
BEGIN SELECT RAISE(ABORT, 'recoveries is append-only'); END;
