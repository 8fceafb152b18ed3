-- program_status v1 sqlite
CREATE TABLE program_status ( case_id TEXT PRIMARY KEY, division TEXT NOT NULL, state TEXT NOT NULL, version BIGINT NOT NULL, began TEXT, deadline_kind TEXT NOT NULL DEFAULT '', deadline TEXT, updated_us BIGINT NOT NULL);
CREATE INDEX program_status_division ON program_status(division, case_id);
-- program_status v1 postgresql
CREATE TABLE program_status ( case_id TEXT PRIMARY KEY, division TEXT NOT NULL, state TEXT NOT NULL, version BIGINT NOT NULL, began TEXT, deadline_kind TEXT NOT NULL DEFAULT '', deadline TEXT, updated_us BIGINT NOT NULL);
CREATE INDEX program_status_division ON program_status(division, case_id);
-- program_status v2 sqlite
ALTER TABLE program_status ADD COLUMN published_version BIGINT NOT NULL DEFAULT 0;
UPDATE program_status SET published_version = version;
CREATE INDEX program_status_unpublished ON program_status(case_id) WHERE version > published_version;
-- program_status v2 postgresql
ALTER TABLE program_status ADD COLUMN published_version BIGINT NOT NULL DEFAULT 0;
UPDATE program_status SET published_version = version;
CREATE INDEX program_status_unpublished ON program_status(case_id) WHERE version > published_version;
-- program_status v3 sqlite
ALTER TABLE program_status ADD COLUMN due_items TEXT NOT NULL DEFAULT '';
ALTER TABLE program_status ADD COLUMN indexed_version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX program_status_unindexed ON program_status(case_id) WHERE version > indexed_version;
-- program_status v3 postgresql
ALTER TABLE program_status ADD COLUMN due_items TEXT NOT NULL DEFAULT '';
ALTER TABLE program_status ADD COLUMN indexed_version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX program_status_unindexed ON program_status(case_id) WHERE version > indexed_version;
