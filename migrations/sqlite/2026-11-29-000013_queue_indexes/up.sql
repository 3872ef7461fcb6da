-- The investigator queue at 1,000,000 cases (issue 9; docs/benchmarks.md → "Investigator queue,
-- 1,000,000 cases"; code: cases::view::queue).
--
-- 1. Counts per status without counting cases. `case_counts` holds the number of cases of each
--    team, assignee ('' for none) and status. The triggers below keep it in the transaction of
--    every insert, update and delete of a case, whichever code writes it; the queue sums its rows
--    when only the team and assignee filters narrow it (cases::view::status_counts).
CREATE TABLE case_counts (
    team_id TEXT NOT NULL,
    assignee_id TEXT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (team_id, assignee_id, status)
);
INSERT INTO case_counts (team_id, assignee_id, status, n)
SELECT team_id, COALESCE(assignee_id, ''), status, COUNT(*)
FROM cases
GROUP BY team_id, COALESCE(assignee_id, ''), status;

CREATE TRIGGER cases_counted_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO case_counts (team_id, assignee_id, status, n)
    VALUES (NEW.team_id, COALESCE(NEW.assignee_id, ''), NEW.status, 1)
    ON CONFLICT (team_id, assignee_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER cases_counted_update AFTER UPDATE OF team_id, assignee_id, status ON cases
WHEN OLD.team_id IS NOT NEW.team_id
    OR OLD.assignee_id IS NOT NEW.assignee_id
    OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE case_counts SET n = n - 1
    WHERE team_id = OLD.team_id
        AND assignee_id = COALESCE(OLD.assignee_id, '')
        AND status = OLD.status;
    INSERT INTO case_counts (team_id, assignee_id, status, n)
    VALUES (NEW.team_id, COALESCE(NEW.assignee_id, ''), NEW.status, 1)
    ON CONFLICT (team_id, assignee_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER cases_counted_delete AFTER DELETE ON cases
BEGIN
    UPDATE case_counts SET n = n - 1
    WHERE team_id = OLD.team_id
        AND assignee_id = COALESCE(OLD.assignee_id, '')
        AND status = OLD.status;
END;

-- 2. Counts under the other filters from the index alone: the status joins the three
--    (…, due_on, number) indexes the queue pages by, so a grouped count under `assignee` +
--    `overdue` reads only the index entries of the assignee's overdue cases. Numbers are unique,
--    so the order of each index is unchanged.
DROP INDEX cases_due;
CREATE INDEX cases_due ON cases (due_on, number, status);
DROP INDEX cases_team_due;
CREATE INDEX cases_team_due ON cases (team_id, due_on, number, status);
DROP INDEX cases_assignee_due;
CREATE INDEX cases_assignee_due ON cases (assignee_id, due_on, number, status);
