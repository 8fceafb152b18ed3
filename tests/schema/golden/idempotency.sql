-- idempotency v1 sqlite
CREATE TABLE idempotency_keys( subject TEXT NOT NULL, key TEXT NOT NULL, method TEXT NOT NULL, request_hash BLOB NOT NULL, response BLOB NOT NULL, created_us BIGINT NOT NULL, PRIMARY KEY(subject, key));
CREATE INDEX idempotency_keys_by_created ON idempotency_keys(created_us);
-- idempotency v1 postgresql
CREATE TABLE idempotency_keys( subject TEXT NOT NULL, key TEXT NOT NULL, method TEXT NOT NULL, request_hash BYTEA NOT NULL, response BYTEA NOT NULL, created_us BIGINT NOT NULL, PRIMARY KEY(subject, key));
CREATE INDEX idempotency_keys_by_created ON idempotency_keys(created_us);
-- idempotency v2 sqlite
PRAGMA secure_delete = ON;
CREATE TABLE idempotency_keys_v2( subject TEXT NOT NULL, key TEXT NOT NULL, method TEXT NOT NULL, request_hash BLOB NOT NULL, stored BLOB, created_us BIGINT NOT NULL, expires_us BIGINT NOT NULL, PRIMARY KEY(subject, key));
INSERT INTO idempotency_keys_v2(subject, key, method, request_hash, stored, created_us, expires_us) SELECT subject, key, method, request_hash, NULL, created_us, created_us + 2592000000000 FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_v2 RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys(expires_us);
-- idempotency v2 postgresql
CREATE TABLE idempotency_keys_v2( subject TEXT NOT NULL, key TEXT NOT NULL, method TEXT NOT NULL, request_hash BYTEA NOT NULL, stored BYTEA, created_us BIGINT NOT NULL, expires_us BIGINT NOT NULL, PRIMARY KEY(subject, key));
INSERT INTO idempotency_keys_v2(subject, key, method, request_hash, stored, created_us, expires_us) SELECT subject, key, method, request_hash, NULL, created_us, created_us + 2592000000000 FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_v2 RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys(expires_us);
