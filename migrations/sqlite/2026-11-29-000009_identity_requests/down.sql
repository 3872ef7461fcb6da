DROP TABLE identity_disclosures;
DROP TABLE identity_requests;
