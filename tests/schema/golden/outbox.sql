-- outbox v1 sqlite
CREATE TABLE outbox ( id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, method TEXT NOT NULL, payload BLOB NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, state TEXT NOT NULL DEFAULT 'pending', attempts BIGINT NOT NULL DEFAULT 0, created_us BIGINT NOT NULL, next_attempt_us BIGINT NOT NULL, last_error TEXT NOT NULL DEFAULT '', delivered_us BIGINT);
CREATE INDEX outbox_due ON outbox(state, next_attempt_us, id);
-- outbox v1 postgresql
CREATE TABLE outbox ( id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, target TEXT NOT NULL, method TEXT NOT NULL, payload BYTEA NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, state TEXT NOT NULL DEFAULT 'pending', attempts BIGINT NOT NULL DEFAULT 0, created_us BIGINT NOT NULL, next_attempt_us BIGINT NOT NULL, last_error TEXT NOT NULL DEFAULT '', delivered_us BIGINT);
CREATE INDEX outbox_due ON outbox(state, next_attempt_us, id);
-- outbox v2 sqlite
ALTER TABLE outbox ADD COLUMN last_error_message TEXT NOT NULL DEFAULT '';
-- outbox v2 postgresql
ALTER TABLE outbox ADD COLUMN last_error_message TEXT NOT NULL DEFAULT '';
-- outbox v3 sqlite
ALTER TABLE outbox ADD COLUMN claimed_until_us BIGINT NOT NULL DEFAULT 0;
-- outbox v3 postgresql
ALTER TABLE outbox ADD COLUMN claimed_until_us BIGINT NOT NULL DEFAULT 0;
