-- The warehouse schema (version 7). Every statement is idempotent: an older database gets
-- the tables it lacks from here, then the columns it lacks from the migrations in schema.rs.
-- `logs`, what rollups, the lake and users read, is a view (LOGS_VIEW in schema.rs) of
-- `log_rows` joined with `agents`.
CREATE TABLE IF NOT EXISTS weblog_meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

-- One row per distinct log line per host. `raw_log` is the line exactly as written (without
-- its line terminator); the other columns are parsed from it or derived at ingest.
CREATE TABLE IF NOT EXISTS log_rows (
    -- zstd, not the default dictionary/FSST: written 3× faster and stored 4× smaller (each
    -- line is nearly unique, so a dictionary buys nothing); measured in bench/NOTES.md.
    raw_log VARCHAR NOT NULL USING COMPRESSION zstd,
    -- The connecting address as logged (may be a proxy, a list, or a host name).
    remote_addr VARCHAR,
    -- The visitor's address: remote_addr, or from X-Forwarded-For behind trusted proxies.
    client_addr VARCHAR,
    remote_user VARCHAR,
    time_local TIMESTAMPTZ NOT NULL,
    -- The date and hour as written in the line (server-local; UTC for formats that log UTC).
    day DATE NOT NULL,
    hour UTINYINT,
    request_method VARCHAR,
    request_path VARCHAR,
    request_protocol VARCHAR,
    status INTEGER,
    body_bytes_sent BIGINT,
    http_referer VARCHAR,
    -- Fields of richer log formats (NULL where the format has none).
    vhost VARCHAR,
    server_port INTEGER,
    request_time DOUBLE,
    upstream_response_time DOUBLE,
    request_length BIGINT,
    x_forwarded_for VARCHAR,
    ssl_protocol VARCHAR,
    cache_status VARCHAR,
    -- The web server (weblog --host) the line came from.
    host VARCHAR,
    source_file VARCHAR NOT NULL,
    source_offset BIGINT NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL,
    -- Derived at ingest: GeoIP country.
    country_code VARCHAR,
    -- The committed batch that stored the row (batches.seq).
    batch_id BIGINT,
    -- For lines a container runtime wrapped (CRI, Docker json-file): its time and stream.
    collected_at TIMESTAMPTZ,
    stream VARCHAR,
    -- xxh3 of raw_log: a stored row is found by it when a batch overlaps stored time (NULL
    -- for rows stored before schema version 5, which are compared by raw_log).
    line_hash UBIGINT,
    -- The row's user agent (agents.agent_id).
    agent_id INTEGER NOT NULL
);

-- Each user agent once, with what is derived from it at ingest (uap-core): a backfill
-- stores one small id per row instead of six columns (-26% load time, bench/NOTES.md §18).
-- An agent is classified when first stored. The same text appears twice only in a database
-- migrated from schema 6 whose rows classified it two ways.
CREATE TABLE IF NOT EXISTS agents (
    agent_id INTEGER NOT NULL,
    http_user_agent VARCHAR,
    browser_family VARCHAR,
    browser_major VARCHAR,
    os_family VARCHAR,
    device_family VARCHAR,
    is_bot BOOLEAN
);

-- Lines that could not be parsed or stored, with where they came from and why; each
-- distinct line once (line_hash: xxh3 of its bytes as read).
CREATE TABLE IF NOT EXISTS rejects (
    source_file VARCHAR NOT NULL,
    source_offset BIGINT NOT NULL,
    raw_line VARCHAR NOT NULL,
    line_hash UBIGINT,
    reason VARCHAR NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL
);

-- Where reading stopped in each file; committed in the same transaction as the rows.
-- head_len and marker_len are the fingerprint parameters each row was made with.
CREATE TABLE IF NOT EXISTS checkpoints (
    path VARCHAR PRIMARY KEY,
    "offset" UBIGINT NOT NULL,
    head_len UINTEGER NOT NULL,
    head_hash UBIGINT NOT NULL,
    marker UBIGINT NOT NULL,
    marker_len UBIGINT NOT NULL,
    size UBIGINT NOT NULL,
    dev UBIGINT NOT NULL,
    inode UBIGINT NOT NULL,
    format VARCHAR,
    format_state VARCHAR,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Each committed batch that stored rows, numbered in commit order; its rows are those of
-- logs with batch_id = seq. The lake export (weblog run --lake) goes batch by batch.
CREATE TABLE IF NOT EXISTS batches (
    seq BIGINT PRIMARY KEY,
    ingested_at TIMESTAMPTZ NOT NULL,
    rows BIGINT NOT NULL,
    committed_at TIMESTAMPTZ NOT NULL
);

-- Per lake (its path), the last batch whose files are in it: written after the files are
-- renamed into place, so a crash in between makes the next run write them again.
CREATE TABLE IF NOT EXISTS lake_exports (
    lake VARCHAR PRIMARY KEY,
    seq BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Days whose rows changed since the per-day rollups were last refreshed. Filled in the
-- same transaction as the rows, emptied in the same transaction as the rollup refresh,
-- so a crash between the two cannot leave a rollup stale.
CREATE TABLE IF NOT EXISTS rollup_pending (
    day DATE PRIMARY KEY
);

-- `--visitor-id hashed`: the random salt of each day whose client addresses are keyed by it,
-- stored with the first rows it keyed and deleted once the day is over (never kept past it:
-- without it no key can be linked to an address).
CREATE TABLE IF NOT EXISTS visitor_salts (
    day DATE PRIMARY KEY,
    salt VARCHAR NOT NULL
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
