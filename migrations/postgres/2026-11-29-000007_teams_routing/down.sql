DROP TABLE conflict_declarations;
DROP TABLE routing_rules;
