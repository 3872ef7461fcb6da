-- Routing rules and conflict-of-interest declarations (issue 9, items 2 and 7; SPEC.md →
-- "Teams, routing, conflicts"). Teams and their members exist since 000002_auth.

-- A rule sends a new case to a team. Each condition is NULL for "any"; a rule with all three
-- NULL is the default. Rules are retired, never deleted, so the history of routing stays.
CREATE TABLE routing_rules (
    id TEXT PRIMARY KEY NOT NULL,
    programme TEXT,
    township_code TEXT REFERENCES divisions(code),
    subject_level TEXT,
    team_id TEXT NOT NULL REFERENCES teams(id),
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP
);
CREATE INDEX routing_rules_active ON routing_rules (retired_at, created_at);
-- At most one active rule per combination of conditions (NULL, "any", counts as one value), so
-- two administrators racing to create the same rule cannot both succeed.
CREATE UNIQUE INDEX routing_rules_one_active ON routing_rules (
    COALESCE(programme, ''), COALESCE(township_code, ''), COALESCE(subject_level, '')
) WHERE retired_at IS NULL;

-- A staff member's declaration that they must not handle matters in a division (a county,
-- township or village; a township's declaration covers its villages). Withdrawn, never deleted.
CREATE TABLE conflict_declarations (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    division_code TEXT NOT NULL REFERENCES divisions(code),
    reason TEXT NOT NULL,
    declared_at TIMESTAMP NOT NULL,
    withdrawn_at TIMESTAMP,
    withdrawn_reason TEXT
);
CREATE INDEX conflict_declarations_user ON conflict_declarations (user_id, division_code);
CREATE INDEX conflict_declarations_declared ON conflict_declarations (declared_at, id);
