-- compulsory_isolation v1 sqlite
CREATE TABLE qz_decisions ( id INTEGER PRIMARY KEY, case_id TEXT NOT NULL, decision_number TEXT NOT NULL, deciding_division TEXT NOT NULL, decided_on TEXT NOT NULL, served_on TEXT NOT NULL, ground BIGINT NOT NULL, warnings TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, state_since TEXT NOT NULL, facility_id TEXT NOT NULL DEFAULT '', division TEXT NOT NULL, admitted_on TEXT, transferred_on TEXT, extension_months BIGINT NOT NULL DEFAULT 0, early_release_on TEXT, release_notice_on TEXT, released_on TEXT, release_certificate TEXT NOT NULL DEFAULT '', sk_ordered BIGINT NOT NULL DEFAULT 0, sk_term_months BIGINT NOT NULL DEFAULT 0, sk_decision_number TEXT NOT NULL DEFAULT '', converted_on TEXT, sd_credit_days BIGINT NOT NULL DEFAULT 0, is_open BIGINT NOT NULL, created_by TEXT NOT NULL, created_us BIGINT NOT NULL);
CREATE UNIQUE INDEX qz_decisions_one_open ON qz_decisions(case_id) WHERE is_open = 1;
CREATE INDEX qz_decisions_case ON qz_decisions(case_id, id);
CREATE INDEX qz_decisions_facility ON qz_decisions(facility_id, is_open);
CREATE TABLE qz_notices ( decision_id BIGINT NOT NULL REFERENCES qz_decisions(id), recipient BIGINT NOT NULL, notified_on TEXT NOT NULL, not_applicable BIGINT NOT NULL, PRIMARY KEY (decision_id, recipient));
CREATE TABLE qz_absences ( id INTEGER PRIMARY KEY, decision_id BIGINT NOT NULL REFERENCES qz_decisions(id), kind BIGINT NOT NULL, started_on TEXT NOT NULL, ended_on TEXT);
CREATE INDEX qz_absences_decision ON qz_absences(decision_id, id);
CREATE TABLE qz_assessments ( id INTEGER PRIMARY KEY, decision_id BIGINT NOT NULL REFERENCES qz_decisions(id), kind BIGINT NOT NULL, assessed_on TEXT NOT NULL, physiological BIGINT NOT NULL, recovery BIGINT NOT NULL, behaviour BIGINT NOT NULL, social BIGINT NOT NULL, facility_id TEXT NOT NULL);
CREATE INDEX qz_assessments_decision ON qz_assessments(decision_id, id);
CREATE TABLE qz_proposals ( id INTEGER PRIMARY KEY, decision_id BIGINT NOT NULL REFERENCES qz_decisions(id), kind BIGINT NOT NULL, proposed_on TEXT NOT NULL, assessment_id BIGINT NOT NULL DEFAULT 0, months BIGINT NOT NULL DEFAULT 0, release_on TEXT, status BIGINT NOT NULL, decided_on TEXT, decision_number TEXT NOT NULL DEFAULT '', refusal_reason TEXT NOT NULL DEFAULT '');
CREATE INDEX qz_proposals_decision ON qz_proposals(decision_id, id);
-- compulsory_isolation v1 postgresql
CREATE TABLE qz_decisions ( id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, case_id TEXT NOT NULL, decision_number TEXT NOT NULL, deciding_division TEXT NOT NULL, decided_on TEXT NOT NULL, served_on TEXT NOT NULL, ground BIGINT NOT NULL, warnings TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, state_since TEXT NOT NULL, facility_id TEXT NOT NULL DEFAULT '', division TEXT NOT NULL, admitted_on TEXT, transferred_on TEXT, extension_months BIGINT NOT NULL DEFAULT 0, early_release_on TEXT, release_notice_on TEXT, released_on TEXT, release_certificate TEXT NOT NULL DEFAULT '', sk_ordered BIGINT NOT NULL DEFAULT 0, sk_term_months BIGINT NOT NULL DEFAULT 0, sk_decision_number TEXT NOT NULL DEFAULT '', converted_on TEXT, sd_credit_days BIGINT NOT NULL DEFAULT 0, is_open BIGINT NOT NULL, created_by TEXT NOT NULL, created_us BIGINT NOT NULL);
CREATE UNIQUE INDEX qz_decisions_one_open ON qz_decisions(case_id) WHERE is_open = 1;
CREATE INDEX qz_decisions_case ON qz_decisions(case_id, id);
CREATE INDEX qz_decisions_facility ON qz_decisions(facility_id, is_open);
CREATE TABLE qz_notices ( decision_id BIGINT NOT NULL REFERENCES qz_decisions(id), recipient BIGINT NOT NULL, notified_on TEXT NOT NULL, not_applicable BIGINT NOT NULL, PRIMARY KEY (decision_id, recipient));
CREATE TABLE qz_absences ( id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, decision_id BIGINT NOT NULL REFERENCES qz_decisions(id), kind BIGINT NOT NULL, started_on TEXT NOT NULL, ended_on TEXT);
CREATE INDEX qz_absences_decision ON qz_absences(decision_id, id);
CREATE TABLE qz_assessments ( id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, decision_id BIGINT NOT NULL REFERENCES qz_decisions(id), kind BIGINT NOT NULL, assessed_on TEXT NOT NULL, physiological BIGINT NOT NULL, recovery BIGINT NOT NULL, behaviour BIGINT NOT NULL, social BIGINT NOT NULL, facility_id TEXT NOT NULL);
CREATE INDEX qz_assessments_decision ON qz_assessments(decision_id, id);
CREATE TABLE qz_proposals ( id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, decision_id BIGINT NOT NULL REFERENCES qz_decisions(id), kind BIGINT NOT NULL, proposed_on TEXT NOT NULL, assessment_id BIGINT NOT NULL DEFAULT 0, months BIGINT NOT NULL DEFAULT 0, release_on TEXT, status BIGINT NOT NULL, decided_on TEXT, decision_number TEXT NOT NULL DEFAULT '', refusal_reason TEXT NOT NULL DEFAULT '');
CREATE INDEX qz_proposals_decision ON qz_proposals(decision_id, id);
-- compulsory_isolation v2 sqlite
ALTER TABLE qz_decisions ADD COLUMN sk_division TEXT NOT NULL DEFAULT '';
ALTER TABLE qz_decisions ADD COLUMN sk_place TEXT NOT NULL DEFAULT '';
-- compulsory_isolation v2 postgresql
ALTER TABLE qz_decisions ADD COLUMN sk_division TEXT NOT NULL DEFAULT '';
ALTER TABLE qz_decisions ADD COLUMN sk_place TEXT NOT NULL DEFAULT '';
-- compulsory_isolation v3 sqlite
ALTER TABLE qz_decisions ADD COLUMN sk_running_at_decision BIGINT NOT NULL DEFAULT 0;
-- compulsory_isolation v3 postgresql
ALTER TABLE qz_decisions ADD COLUMN sk_running_at_decision BIGINT NOT NULL DEFAULT 0;
