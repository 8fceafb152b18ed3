-- supervision v1 sqlite
CREATE TABLE sv_orders ( order_id INTEGER PRIMARY KEY, case_id TEXT NOT NULL, division TEXT NOT NULL, state TEXT NOT NULL, state_since TEXT NOT NULL, decision_number TEXT NOT NULL, decision_date TEXT NOT NULL, received_on TEXT NOT NULL, term_months BIGINT NOT NULL, term_start TEXT, closed BIGINT NOT NULL DEFAULT 0, close_reason TEXT NOT NULL DEFAULT '', closed_on TEXT, closing_document TEXT NOT NULL DEFAULT '', opened_by TEXT NOT NULL, created_us BIGINT NOT NULL);
CREATE UNIQUE INDEX sv_orders_one_open ON sv_orders(case_id) WHERE closed = 0;
CREATE INDEX sv_orders_case ON sv_orders(case_id, order_id);
CREATE INDEX sv_orders_division ON sv_orders(closed, division, order_id);
CREATE TABLE sv_places ( order_id BIGINT NOT NULL REFERENCES sv_orders(order_id), seq BIGINT NOT NULL, division TEXT NOT NULL, place TEXT NOT NULL, assigned_on TEXT NOT NULL, report_deadline TEXT NOT NULL, reported_on TEXT, agreement_on TEXT, agreement_number TEXT NOT NULL DEFAULT '', PRIMARY KEY(order_id, seq));
CREATE TABLE sv_tests ( test_id INTEGER PRIMARY KEY, order_id BIGINT NOT NULL REFERENCES sv_orders(order_id), tested_on TEXT NOT NULL, specimen BIGINT NOT NULL, result BIGINT NOT NULL, unannounced BIGINT NOT NULL, reviewed_on TEXT, evaded BIGINT NOT NULL DEFAULT 0, recorded_by TEXT NOT NULL);
CREATE INDEX sv_tests_order ON sv_tests(order_id, tested_on);
CREATE TABLE sv_leaves ( leave_id INTEGER PRIMARY KEY, order_id BIGINT NOT NULL REFERENCES sv_orders(order_id), reported_on TEXT NOT NULL, start_on TEXT NOT NULL, end_on TEXT NOT NULL, destination TEXT NOT NULL);
CREATE INDEX sv_leaves_order ON sv_leaves(order_id, start_on);
CREATE TABLE sv_absences ( absence_id INTEGER PRIMARY KEY, order_id BIGINT NOT NULL REFERENCES sv_orders(order_id), left_on TEXT NOT NULL, returned_on TEXT);
CREATE INDEX sv_absences_order ON sv_absences(order_id, left_on);
CREATE TABLE sv_suspensions ( suspension_id INTEGER PRIMARY KEY, order_id BIGINT NOT NULL REFERENCES sv_orders(order_id), reason BIGINT NOT NULL, start_on TEXT NOT NULL, resumed_on TEXT, pauses_clock BIGINT NOT NULL);
CREATE INDEX sv_suspensions_order ON sv_suspensions(order_id, start_on);
CREATE TABLE sv_police_reports ( order_id BIGINT NOT NULL REFERENCES sv_orders(order_id), alert_key TEXT NOT NULL, reported_on TEXT NOT NULL, reported_by TEXT NOT NULL, PRIMARY KEY(order_id, alert_key));
-- supervision v1 postgresql
CREATE TABLE sv_orders ( order_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, case_id TEXT NOT NULL, division TEXT NOT NULL, state TEXT NOT NULL, state_since TEXT NOT NULL, decision_number TEXT NOT NULL, decision_date TEXT NOT NULL, received_on TEXT NOT NULL, term_months BIGINT NOT NULL, term_start TEXT, closed BIGINT NOT NULL DEFAULT 0, close_reason TEXT NOT NULL DEFAULT '', closed_on TEXT, closing_document TEXT NOT NULL DEFAULT '', opened_by TEXT NOT NULL, created_us BIGINT NOT NULL);
CREATE UNIQUE INDEX sv_orders_one_open ON sv_orders(case_id) WHERE closed = 0;
CREATE INDEX sv_orders_case ON sv_orders(case_id, order_id);
CREATE INDEX sv_orders_division ON sv_orders(closed, division, order_id);
CREATE TABLE sv_places ( order_id BIGINT NOT NULL REFERENCES sv_orders(order_id), seq BIGINT NOT NULL, division TEXT NOT NULL, place TEXT NOT NULL, assigned_on TEXT NOT NULL, report_deadline TEXT NOT NULL, reported_on TEXT, agreement_on TEXT, agreement_number TEXT NOT NULL DEFAULT '', PRIMARY KEY(order_id, seq));
CREATE TABLE sv_tests ( test_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id BIGINT NOT NULL REFERENCES sv_orders(order_id), tested_on TEXT NOT NULL, specimen BIGINT NOT NULL, result BIGINT NOT NULL, unannounced BIGINT NOT NULL, reviewed_on TEXT, evaded BIGINT NOT NULL DEFAULT 0, recorded_by TEXT NOT NULL);
CREATE INDEX sv_tests_order ON sv_tests(order_id, tested_on);
CREATE TABLE sv_leaves ( leave_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id BIGINT NOT NULL REFERENCES sv_orders(order_id), reported_on TEXT NOT NULL, start_on TEXT NOT NULL, end_on TEXT NOT NULL, destination TEXT NOT NULL);
CREATE INDEX sv_leaves_order ON sv_leaves(order_id, start_on);
CREATE TABLE sv_absences ( absence_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id BIGINT NOT NULL REFERENCES sv_orders(order_id), left_on TEXT NOT NULL, returned_on TEXT);
CREATE INDEX sv_absences_order ON sv_absences(order_id, left_on);
CREATE TABLE sv_suspensions ( suspension_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id BIGINT NOT NULL REFERENCES sv_orders(order_id), reason BIGINT NOT NULL, start_on TEXT NOT NULL, resumed_on TEXT, pauses_clock BIGINT NOT NULL);
CREATE INDEX sv_suspensions_order ON sv_suspensions(order_id, start_on);
CREATE TABLE sv_police_reports ( order_id BIGINT NOT NULL REFERENCES sv_orders(order_id), alert_key TEXT NOT NULL, reported_on TEXT NOT NULL, reported_by TEXT NOT NULL, PRIMARY KEY(order_id, alert_key));
-- supervision v2 sqlite
ALTER TABLE sv_orders ADD COLUMN credited_days BIGINT NOT NULL DEFAULT 0;
-- supervision v2 postgresql
ALTER TABLE sv_orders ADD COLUMN credited_days BIGINT NOT NULL DEFAULT 0;
