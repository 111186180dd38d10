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
    ingested_at TIMESTAMPTZ NOT NULL
);

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
