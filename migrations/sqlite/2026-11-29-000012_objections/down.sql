DROP INDEX objections_all;
DROP INDEX objections_list;
DROP INDEX objections_report;
DROP INDEX objections_case;
DROP TABLE objections;
