-- audit v1 sqlite
CREATE TABLE audit_log( seq INTEGER PRIMARY KEY, at_us BIGINT NOT NULL, subject TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL, case_id TEXT NOT NULL, outcome TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL);
CREATE INDEX audit_log_by_case ON audit_log(case_id, seq);
CREATE INDEX audit_log_by_subject ON audit_log(subject, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- audit v1 postgresql
CREATE TABLE audit_log( seq BIGINT PRIMARY KEY, at_us BIGINT NOT NULL, subject TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL, case_id TEXT NOT NULL, outcome TEXT NOT NULL, prev_hash BYTEA NOT NULL, hash BYTEA NOT NULL);
CREATE INDEX audit_log_by_case ON audit_log(case_id, seq);
CREATE INDEX audit_log_by_subject ON audit_log(subject, seq);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'audit_log is append-only';
END$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
-- audit v2 sqlite
ALTER TABLE audit_log ADD COLUMN chain BIGINT NOT NULL DEFAULT 1
-- audit v2 postgresql
ALTER TABLE audit_log ADD COLUMN chain BIGINT NOT NULL DEFAULT 1
-- audit v3 sqlite
ALTER TABLE audit_log ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_by_case_time ON audit_log(case_id, at_us, seq);
CREATE INDEX audit_log_by_subject_time ON audit_log(subject, at_us, seq);
DROP INDEX audit_log_by_case;
DROP INDEX audit_log_by_subject;
-- audit v3 postgresql
ALTER TABLE audit_log ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_by_case_time ON audit_log(case_id, at_us, seq);
CREATE INDEX audit_log_by_subject_time ON audit_log(subject, at_us, seq);
DROP INDEX audit_log_by_case;
DROP INDEX audit_log_by_subject;
