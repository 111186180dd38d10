-- The warehouse schema. Applied on every open; every statement is idempotent.
CREATE TABLE IF NOT EXISTS weblog_meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

-- One row per distinct log line ever read. `raw_log` is the line exactly as written
-- (without its line terminator); the other columns are parsed from it.
CREATE TABLE IF NOT EXISTS logs (
    raw_log VARCHAR NOT NULL,
    remote_addr VARCHAR,
    remote_user VARCHAR,
    time_local TIMESTAMPTZ NOT NULL,
    day DATE NOT NULL,
    request_method VARCHAR,
    request_path VARCHAR,
    request_protocol VARCHAR,
    status INTEGER,
    body_bytes_sent BIGINT,
    http_referer VARCHAR,
    http_user_agent VARCHAR,
    source_file VARCHAR NOT NULL,
    source_offset BIGINT NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL,
    -- Derived at ingest (schema version 2): user agent (uap-core) and GeoIP country.
    browser_family VARCHAR,
    browser_major VARCHAR,
    os_family VARCHAR,
    device_family VARCHAR,
    is_bot BOOLEAN,
    country_code VARCHAR
);

-- A version-1 database gains the derived columns; Warehouse::open backfills them.
ALTER TABLE logs ADD COLUMN IF NOT EXISTS browser_family VARCHAR;
ALTER TABLE logs ADD COLUMN IF NOT EXISTS browser_major VARCHAR;
ALTER TABLE logs ADD COLUMN IF NOT EXISTS os_family VARCHAR;
ALTER TABLE logs ADD COLUMN IF NOT EXISTS device_family VARCHAR;
ALTER TABLE logs ADD COLUMN IF NOT EXISTS is_bot BOOLEAN;
ALTER TABLE logs ADD COLUMN IF NOT EXISTS country_code VARCHAR;

-- Lines that could not be parsed, with where they came from and why.
CREATE TABLE IF NOT EXISTS rejects (
    source_file VARCHAR NOT NULL,
    source_offset BIGINT NOT NULL,
    raw_line VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL
);

-- Where reading stopped in each file; committed in the same transaction as the rows.
CREATE TABLE IF NOT EXISTS checkpoints (
    path VARCHAR PRIMARY KEY,
    "offset" UBIGINT NOT NULL,
    head_len UINTEGER NOT NULL,
    head_hash UBIGINT NOT NULL,
    marker UBIGINT NOT NULL,
    size UBIGINT NOT NULL,
    dev UBIGINT NOT NULL,
    inode UBIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Days whose rows changed since the per-day rollups were last refreshed. Filled in the
-- same transaction as the rows, emptied in the same transaction as the rollup refresh,
-- so a crash between the two cannot leave a rollup stale.
CREATE TABLE IF NOT EXISTS rollup_pending (
    day DATE PRIMARY KEY
);

-- One row per run (or watch pass) that got as far as opening the database; `error` is NULL
-- when it succeeded, `summary` is its JSON summary (`weblog run --json`).
CREATE TABLE IF NOT EXISTS runs (
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    files INTEGER NOT NULL,
    lines BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    inserted BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    rejects BIGINT NOT NULL,
    error VARCHAR,
    summary VARCHAR NOT NULL
);
