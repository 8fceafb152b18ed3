-- registry v1 sqlite
CREATE TABLE case_sequence (division TEXT NOT NULL, year BIGINT NOT NULL, last_sequence BIGINT NOT NULL, PRIMARY KEY(division, year));
CREATE TABLE cases ( case_id TEXT PRIMARY KEY, id_index BLOB NOT NULL UNIQUE, id_cipher BLOB NOT NULL, name_cipher BLOB NOT NULL, phone_cipher BLOB NOT NULL, address_cipher BLOB NOT NULL, birth_date TEXT NOT NULL, sex BIGINT NOT NULL, household_division TEXT NOT NULL, residence_division TEXT NOT NULL, registering_division TEXT NOT NULL, drug_types TEXT NOT NULL, route_of_use BIGINT NOT NULL, registered_on TEXT NOT NULL, risk_grade TEXT NOT NULL, control_status BIGINT NOT NULL, life_status BIGINT NOT NULL, abstinence_anchor TEXT NOT NULL, open_measures BIGINT NOT NULL, version BIGINT NOT NULL, created_us BIGINT NOT NULL, updated_us BIGINT NOT NULL);
CREATE INDEX cases_newest ON cases(created_us DESC, case_id DESC);
CREATE INDEX cases_household ON cases(household_division);
CREATE INDEX cases_residence ON cases(residence_division);
CREATE TABLE grade_history (case_id TEXT NOT NULL, seq BIGINT NOT NULL, grade TEXT NOT NULL, previous TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL, effective_on TEXT NOT NULL, recorded_us BIGINT NOT NULL, PRIMARY KEY(case_id, seq));
CREATE TABLE status_history (case_id TEXT NOT NULL, recorded_us BIGINT NOT NULL, kind TEXT NOT NULL, value BIGINT NOT NULL, effective_on TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL);
CREATE INDEX status_history_case ON status_history(case_id, recorded_us);
CREATE TABLE jurisdiction_history (case_id TEXT NOT NULL, recorded_us BIGINT NOT NULL, household_division TEXT NOT NULL, residence_division TEXT NOT NULL, effective_on TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL);
CREATE INDEX jurisdiction_history_case ON jurisdiction_history(case_id, recorded_us);
CREATE TABLE case_events (case_id TEXT NOT NULL, source_event_id TEXT NOT NULL, kind BIGINT NOT NULL, program BIGINT NOT NULL, occurred_on TEXT NOT NULL, recorded_us BIGINT NOT NULL, PRIMARY KEY(case_id, source_event_id));
CREATE TABLE measures (case_id TEXT NOT NULL, program BIGINT NOT NULL, started_on TEXT NOT NULL, ended_on TEXT);
CREATE INDEX measures_open ON measures(case_id, program, ended_on);
-- registry v1 postgresql
CREATE TABLE case_sequence (division TEXT NOT NULL, year BIGINT NOT NULL, last_sequence BIGINT NOT NULL, PRIMARY KEY(division, year));
CREATE TABLE cases ( case_id TEXT PRIMARY KEY, id_index BYTEA NOT NULL UNIQUE, id_cipher BYTEA NOT NULL, name_cipher BYTEA NOT NULL, phone_cipher BYTEA NOT NULL, address_cipher BYTEA NOT NULL, birth_date TEXT NOT NULL, sex BIGINT NOT NULL, household_division TEXT NOT NULL, residence_division TEXT NOT NULL, registering_division TEXT NOT NULL, drug_types TEXT NOT NULL, route_of_use BIGINT NOT NULL, registered_on TEXT NOT NULL, risk_grade TEXT NOT NULL, control_status BIGINT NOT NULL, life_status BIGINT NOT NULL, abstinence_anchor TEXT NOT NULL, open_measures BIGINT NOT NULL, version BIGINT NOT NULL, created_us BIGINT NOT NULL, updated_us BIGINT NOT NULL);
CREATE INDEX cases_newest ON cases(created_us DESC, case_id DESC);
CREATE INDEX cases_household ON cases(household_division);
CREATE INDEX cases_residence ON cases(residence_division);
CREATE TABLE grade_history (case_id TEXT NOT NULL, seq BIGINT NOT NULL, grade TEXT NOT NULL, previous TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL, effective_on TEXT NOT NULL, recorded_us BIGINT NOT NULL, PRIMARY KEY(case_id, seq));
CREATE TABLE status_history (case_id TEXT NOT NULL, recorded_us BIGINT NOT NULL, kind TEXT NOT NULL, value BIGINT NOT NULL, effective_on TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL);
CREATE INDEX status_history_case ON status_history(case_id, recorded_us);
CREATE TABLE jurisdiction_history (case_id TEXT NOT NULL, recorded_us BIGINT NOT NULL, household_division TEXT NOT NULL, residence_division TEXT NOT NULL, effective_on TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL);
CREATE INDEX jurisdiction_history_case ON jurisdiction_history(case_id, recorded_us);
CREATE TABLE case_events (case_id TEXT NOT NULL, source_event_id TEXT NOT NULL, kind BIGINT NOT NULL, program BIGINT NOT NULL, occurred_on TEXT NOT NULL, recorded_us BIGINT NOT NULL, PRIMARY KEY(case_id, source_event_id));
CREATE TABLE measures (case_id TEXT NOT NULL, program BIGINT NOT NULL, started_on TEXT NOT NULL, ended_on TEXT);
CREATE INDEX measures_open ON measures(case_id, program, ended_on);
-- registry v2 sqlite
ALTER TABLE cases ADD COLUMN township TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN assigned_caseworker TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_township ON cases(township, created_us DESC, case_id DESC);
CREATE INDEX cases_assigned ON cases(assigned_caseworker, created_us DESC, case_id DESC);
CREATE TABLE assignment_history (case_id TEXT NOT NULL, recorded_us BIGINT NOT NULL, township TEXT NOT NULL, caseworker TEXT NOT NULL, previous_township TEXT NOT NULL, previous_caseworker TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL, actor_role TEXT NOT NULL);
CREATE INDEX assignment_history_case ON assignment_history(case_id, recorded_us);
-- registry v2 postgresql
ALTER TABLE cases ADD COLUMN township TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN assigned_caseworker TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_township ON cases(township, created_us DESC, case_id DESC);
CREATE INDEX cases_assigned ON cases(assigned_caseworker, created_us DESC, case_id DESC);
CREATE TABLE assignment_history (case_id TEXT NOT NULL, recorded_us BIGINT NOT NULL, township TEXT NOT NULL, caseworker TEXT NOT NULL, previous_township TEXT NOT NULL, previous_caseworker TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL, actor_role TEXT NOT NULL);
CREATE INDEX assignment_history_case ON assignment_history(case_id, recorded_us);
-- registry v5 sqlite
CREATE TABLE visits (case_id TEXT NOT NULL, visit_id BIGINT NOT NULL, visited_on TEXT NOT NULL, kind BIGINT NOT NULL, place_cipher BLOB NOT NULL, notes_cipher BLOB NOT NULL, next_visit_on TEXT, recorded_by TEXT NOT NULL, recorder_role TEXT NOT NULL, recorded_us BIGINT NOT NULL, corrects_visit_id BIGINT, PRIMARY KEY(case_id, visit_id));
CREATE UNIQUE INDEX visits_correction ON visits(case_id, corrects_visit_id);
CREATE INDEX visits_newest ON visits(case_id, visited_on DESC, visit_id DESC);
CREATE TABLE visit_next_due (case_id TEXT PRIMARY KEY, next_visit_on TEXT NOT NULL);
CREATE INDEX visit_next_due_day ON visit_next_due(next_visit_on, case_id);
-- registry v5 postgresql
CREATE TABLE visits (case_id TEXT NOT NULL, visit_id BIGINT NOT NULL, visited_on TEXT NOT NULL, kind BIGINT NOT NULL, place_cipher BYTEA NOT NULL, notes_cipher BYTEA NOT NULL, next_visit_on TEXT, recorded_by TEXT NOT NULL, recorder_role TEXT NOT NULL, recorded_us BIGINT NOT NULL, corrects_visit_id BIGINT, PRIMARY KEY(case_id, visit_id));
CREATE UNIQUE INDEX visits_correction ON visits(case_id, corrects_visit_id);
CREATE INDEX visits_newest ON visits(case_id, visited_on DESC, visit_id DESC);
CREATE TABLE visit_next_due (case_id TEXT PRIMARY KEY, next_visit_on TEXT NOT NULL);
CREATE INDEX visit_next_due_day ON visit_next_due(next_visit_on, case_id);
-- registry v4 sqlite
ALTER TABLE cases ADD COLUMN name_index BLOB;
ALTER TABLE cases ADD COLUMN phone_index BLOB;
CREATE INDEX cases_name_birth ON cases(name_index, birth_date);
CREATE INDEX cases_phone ON cases(phone_index);
-- registry v4 postgresql
ALTER TABLE cases ADD COLUMN name_index BYTEA;
ALTER TABLE cases ADD COLUMN phone_index BYTEA;
CREATE INDEX cases_name_birth ON cases(name_index, birth_date);
CREATE INDEX cases_phone ON cases(phone_index);
-- registry v6 sqlite
CREATE TABLE case_change_counter (id BIGINT PRIMARY KEY, last_seq BIGINT NOT NULL, pruned_before_us BIGINT NOT NULL);
INSERT INTO case_change_counter(id, last_seq, pruned_before_us) SELECT 1, COUNT(*), 0 FROM cases;
CREATE TABLE case_changes (seq INTEGER PRIMARY KEY, case_id TEXT NOT NULL, recorded_us BIGINT NOT NULL, household_division TEXT NOT NULL, residence_division TEXT NOT NULL, prev_exists BIGINT NOT NULL, prev_household TEXT NOT NULL, prev_residence TEXT NOT NULL, prev_township TEXT NOT NULL, prev_caseworker TEXT NOT NULL, prev_anchor TEXT NOT NULL, prev_open_measures BIGINT NOT NULL, prev_since_us BIGINT NOT NULL);
CREATE INDEX case_changes_case ON case_changes(case_id, seq);
CREATE INDEX case_changes_recorded ON case_changes(recorded_us);
CREATE INDEX cases_abstinence ON cases(abstinence_anchor);
INSERT INTO case_changes(seq, case_id, recorded_us, household_division, residence_division, prev_exists, prev_household, prev_residence, prev_township, prev_caseworker, prev_anchor, prev_open_measures, prev_since_us) SELECT ROW_NUMBER() OVER (ORDER BY created_us, case_id), case_id, updated_us, household_division, residence_division, 0, '', '', '', '', '', 0, 0 FROM cases;
-- registry v6 postgresql
CREATE TABLE case_change_counter (id BIGINT PRIMARY KEY, last_seq BIGINT NOT NULL, pruned_before_us BIGINT NOT NULL);
INSERT INTO case_change_counter(id, last_seq, pruned_before_us) SELECT 1, COUNT(*), 0 FROM cases;
CREATE TABLE case_changes (seq BIGINT PRIMARY KEY, case_id TEXT NOT NULL, recorded_us BIGINT NOT NULL, household_division TEXT NOT NULL, residence_division TEXT NOT NULL, prev_exists BIGINT NOT NULL, prev_household TEXT NOT NULL, prev_residence TEXT NOT NULL, prev_township TEXT NOT NULL, prev_caseworker TEXT NOT NULL, prev_anchor TEXT NOT NULL, prev_open_measures BIGINT NOT NULL, prev_since_us BIGINT NOT NULL);
CREATE INDEX case_changes_case ON case_changes(case_id, seq);
CREATE INDEX case_changes_recorded ON case_changes(recorded_us);
CREATE INDEX cases_abstinence ON cases(abstinence_anchor);
INSERT INTO case_changes(seq, case_id, recorded_us, household_division, residence_division, prev_exists, prev_household, prev_residence, prev_township, prev_caseworker, prev_anchor, prev_open_measures, prev_since_us) SELECT ROW_NUMBER() OVER (ORDER BY created_us, case_id), case_id, updated_us, household_division, residence_division, 0, '', '', '', '', '', 0, 0 FROM cases;
-- registry v3 sqlite
CREATE TABLE programme_states (case_id TEXT NOT NULL, program BIGINT NOT NULL, state TEXT NOT NULL, version BIGINT NOT NULL, division TEXT NOT NULL, updated_us BIGINT NOT NULL, PRIMARY KEY(case_id, program));
CREATE INDEX programme_states_state ON programme_states(program, state, case_id);
CREATE TABLE work_items (case_id TEXT NOT NULL, program BIGINT NOT NULL, item_key TEXT NOT NULL, kind TEXT NOT NULL, due_on TEXT NOT NULL, is_open BIGINT NOT NULL, is_deadline BIGINT NOT NULL, legal_basis TEXT NOT NULL, division TEXT NOT NULL, PRIMARY KEY(case_id, program, item_key));
CREATE INDEX work_items_division_due ON work_items(division, due_on, case_id, program, item_key);
CREATE INDEX work_items_due ON work_items(due_on, case_id, program, item_key);
-- registry v3 postgresql
CREATE TABLE programme_states (case_id TEXT NOT NULL, program BIGINT NOT NULL, state TEXT NOT NULL, version BIGINT NOT NULL, division TEXT NOT NULL, updated_us BIGINT NOT NULL, PRIMARY KEY(case_id, program));
CREATE INDEX programme_states_state ON programme_states(program, state, case_id);
CREATE TABLE work_items (case_id TEXT NOT NULL, program BIGINT NOT NULL, item_key TEXT NOT NULL, kind TEXT NOT NULL, due_on TEXT NOT NULL, is_open BIGINT NOT NULL, is_deadline BIGINT NOT NULL, legal_basis TEXT NOT NULL, division TEXT NOT NULL, PRIMARY KEY(case_id, program, item_key));
CREATE INDEX work_items_division_due ON work_items(division, due_on, case_id, program, item_key);
CREATE INDEX work_items_due ON work_items(due_on, case_id, program, item_key);
