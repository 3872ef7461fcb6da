-- Village benefit suspension until remediation (issue 12; SPEC.md rule 4, "Suspension",
-- "Remediation", "Suspensions"): the history of each remediation item and its evidence files,
-- the period rows the benefit-status API reads in one indexed lookup, and the webhook
-- subscribers of the disbursement systems. Suspension history (migration 000011) becomes
-- append-only in the database itself.

-- Every step of a remediation item, in order: created | submitted | verified | rejected. The
-- item row (remediation_items) holds the current state; this holds every earlier submission
-- and rejection reason too.
CREATE TABLE remediation_events (
    id TEXT PRIMARY KEY NOT NULL,
    item_id TEXT NOT NULL REFERENCES remediation_items(id),
    -- The step's place in the item's history, from 1 (steps may share an instant).
    position INTEGER NOT NULL,
    event TEXT NOT NULL,
    -- The evidence text of a submission.
    evidence TEXT,
    -- The reason of a rejection.
    reason TEXT,
    actor_id TEXT NOT NULL REFERENCES users(id),
    at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX remediation_events_item ON remediation_events (item_id, position);

-- Evidence files of a submission: encrypted in the attachment store (<data>/attachments) like a
-- report's evidence, cleaned of identifying metadata first; never the client's file name.
CREATE TABLE remediation_files (
    id TEXT PRIMARY KEY NOT NULL,
    item_id TEXT NOT NULL REFERENCES remediation_items(id),
    event_id TEXT NOT NULL REFERENCES remediation_events(id),
    storage_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    -- The kinds of metadata removed (exif.gps, office.author …), comma-separated; never values.
    metadata_removed TEXT NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX remediation_files_item ON remediation_files (item_id, created_at);

-- One row per suspension, kept by the transaction that changes the suspension, so that the
-- benefit-status API answers from one indexed read: the period and its cases as JSON
-- ([{"case_id", "number", "joined_at", "cleared_at"}], in the order they joined; cleared_at is
-- when the case's remediation plan was verified complete). Derived from suspensions,
-- suspension_cases, cases and the case_cleared events; rebuilt whole on every change.
CREATE TABLE suspension_periods (
    suspension_id TEXT PRIMARY KEY NOT NULL REFERENCES suspensions(id),
    village_code TEXT NOT NULL REFERENCES divisions(code),
    started_at TIMESTAMP NOT NULL,
    lifted_at TIMESTAMP,
    cases TEXT NOT NULL
);
CREATE INDEX suspension_periods_village ON suspension_periods (village_code, started_at);
CREATE INDEX suspension_periods_started ON suspension_periods (started_at, suspension_id);

-- Suspensions that existed before this migration (none outside development) get their rows.
INSERT INTO suspension_periods (suspension_id, village_code, started_at, lifted_at, cases)
SELECT s.id, s.village_code, s.started_at, s.lifted_at,
       COALESCE((SELECT json_agg(json_build_object(
                     'case_id', c.id, 'number', c.number,
                     'joined_at', to_char(sc.joined_at, 'YYYY-MM-DD"T"HH24:MI:SS.US'),
                     'cleared_at', NULL) ORDER BY sc.joined_at)::text
                 FROM suspension_cases sc JOIN cases c ON c.id = sc.case_id
                 WHERE sc.suspension_id = s.id), '[]')
FROM suspensions s;

-- A disbursement system's webhook: one URL per service key. The signing secret is sealed with
-- the data key (XChaCha20-Poly1305, the subscriber id as associated data) and shown once.
-- Removing a subscriber keeps its row (removed_at).
CREATE TABLE webhook_subscribers (
    id TEXT PRIMARY KEY NOT NULL,
    api_key_id TEXT NOT NULL REFERENCES api_keys(id),
    url TEXT NOT NULL,
    secret_sealed BYTEA NOT NULL,
    active BOOLEAN NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    removed_at TIMESTAMP
);
CREATE UNIQUE INDEX webhook_subscribers_key ON webhook_subscribers (api_key_id)
    WHERE removed_at IS NULL;

-- Suspension history is never edited or deleted (SPEC.md → "Suspension"; issue 12): events,
-- the cases behind a suspension and the remediation history are append-only, and a suspension
-- row is never deleted (only its lift is written, once).
CREATE FUNCTION suspension_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER suspension_events_append_only BEFORE UPDATE OR DELETE ON suspension_events
    FOR EACH ROW EXECUTE FUNCTION suspension_history_append_only();
CREATE TRIGGER suspension_cases_append_only BEFORE UPDATE OR DELETE ON suspension_cases
    FOR EACH ROW EXECUTE FUNCTION suspension_history_append_only();
CREATE TRIGGER remediation_events_append_only BEFORE UPDATE OR DELETE ON remediation_events
    FOR EACH ROW EXECUTE FUNCTION suspension_history_append_only();
CREATE TRIGGER suspensions_never_deleted BEFORE DELETE ON suspensions
    FOR EACH ROW EXECUTE FUNCTION suspension_history_append_only();
CREATE FUNCTION suspension_lift_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.lifted_at IS NOT NULL OR NEW.id IS DISTINCT FROM OLD.id
       OR NEW.village_code IS DISTINCT FROM OLD.village_code
       OR NEW.started_at IS DISTINCT FROM OLD.started_at THEN
        RAISE EXCEPTION 'a suspension changes only by its one lift';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER suspensions_lift_once BEFORE UPDATE ON suspensions
    FOR EACH ROW EXECUTE FUNCTION suspension_lift_once();
