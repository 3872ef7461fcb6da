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
) WITH (fillfactor = 50);
-- Half of each page is left free, so a change of a count (every case write) stays on its page
-- (a HOT update) instead of growing the table and its index.
INSERT INTO case_counts (team_id, assignee_id, status, n)
SELECT team_id, COALESCE(assignee_id, ''), status, COUNT(*)
FROM cases
GROUP BY team_id, COALESCE(assignee_id, ''), status;

-- Statement-level triggers with transition tables: one upsert per key a statement touches, so a
-- batch insert of many cases costs one small grouped write. The keys are written in order, so
-- two statements that move cases between the same keys in opposite directions lock the rows in
-- the same order and cannot deadlock (a transaction that writes several cases in separate
-- statements takes their keys statement by statement, like any row it updates).
CREATE FUNCTION case_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_counts (team_id, assignee_id, status, n)
    SELECT team_id, COALESCE(assignee_id, ''), status, COUNT(*)
    FROM inserted
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (team_id, assignee_id, status) DO UPDATE SET n = case_counts.n + EXCLUDED.n;
    RETURN NULL;
END;
$$;

CREATE FUNCTION case_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_counts (team_id, assignee_id, status, n)
    SELECT team_id, assignee_id, status, SUM(delta)
    FROM (
        SELECT team_id, COALESCE(assignee_id, '') AS assignee_id, status, -1 AS delta
        FROM before_rows
        UNION ALL
        SELECT team_id, COALESCE(assignee_id, ''), status, 1
        FROM after_rows
    ) AS moved
    GROUP BY 1, 2, 3
    HAVING SUM(delta) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (team_id, assignee_id, status) DO UPDATE SET n = case_counts.n + EXCLUDED.n;
    RETURN NULL;
END;
$$;

CREATE FUNCTION case_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_counts (team_id, assignee_id, status, n)
    SELECT team_id, COALESCE(assignee_id, ''), status, -COUNT(*)
    FROM deleted
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (team_id, assignee_id, status) DO UPDATE SET n = case_counts.n + EXCLUDED.n;
    RETURN NULL;
END;
$$;

CREATE TRIGGER cases_counted_insert AFTER INSERT ON cases
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION case_counts_after_insert();
CREATE TRIGGER cases_counted_update AFTER UPDATE ON cases
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION case_counts_after_update();
CREATE TRIGGER cases_counted_delete AFTER DELETE ON cases
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION case_counts_after_delete();

-- 2. Counts under the other filters from the index alone: the status is carried in the three
--    (…, due_on, number) indexes the queue pages by, so a grouped count under `assignee` +
--    `overdue` is an index-only scan of the assignee's overdue cases.
DROP INDEX cases_due;
CREATE INDEX cases_due ON cases (due_on, number) INCLUDE (status);
DROP INDEX cases_team_due;
CREATE INDEX cases_team_due ON cases (team_id, due_on, number) INCLUDE (status);
DROP INDEX cases_assignee_due;
CREATE INDEX cases_assignee_due ON cases (assignee_id, due_on, number) INCLUDE (status);
