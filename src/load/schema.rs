//! The stored schema and its versions. A database's versions are read before anything is
//! written to it: one from a newer weblog, or one that is not a weblog database, is refused
//! untouched. Older ones are migrated in place, in one transaction.

use duckdb::Connection;

use super::{BUMP_DATA_VERSION, Warehouse};
use crate::enrich::Enricher;
use crate::error::{Context, Error, ErrorKind, Result, one_line};
use crate::sql_text::string_literal;

/// Bumped when the stored schema changes; a database from a newer weblog is refused rather
/// than half-understood. 1: the spine. 2: user-agent columns. 3: log-format columns,
/// client_addr, hour, host; checkpoints record their fingerprint parameters and format;
/// rejects are deduplicated by line hash. 4: each row names its batch (`batch_id`);
/// `collected_at` and `stream` of container-wrapped lines. 5: `line_hash` of each row (the
/// anti-join's key; NULL for rows stored before it). 6: `visitor_salts`. 7: each user agent
/// stored once (`agents`), rows in `log_rows` with its id, `logs` the view joining them.
pub const SCHEMA_VERSION: i64 = 7;

/// The meaning of a stored checkpoint (what head, marker and offset are), versioned apart
/// from the tables: 2 = per-row head and marker lengths.
pub const CHECKPOINT_FORMAT: i64 = 2;

const SCHEMA: &str = include_str!("schema.sql");

/// The agent columns, stored once per agent in `agents` since version 7.
pub(crate) const AGENT_COLUMNS: [&str; 6] = [
    "http_user_agent",
    "browser_family",
    "browser_major",
    "os_family",
    "device_family",
    "is_bot",
];

/// `logs` as rollups, the lake and users read it: every column by its name of version 6,
/// in that order. An inner join: every row has an agent (`agent_id` NOT NULL, an agent is
/// deleted only with its last row), and DuckDB runs it faster than a left join under the
/// run's memory limit (a lake partition's COPY 1.0 s against 0.2 s, bench/NOTES.md §18).
const LOGS_VIEW: &str = "
    CREATE OR REPLACE VIEW logs AS
    SELECT r.raw_log, r.remote_addr, r.client_addr, r.remote_user, r.time_local, r.day, r.hour,
           r.request_method, r.request_path, r.request_protocol, r.status, r.body_bytes_sent,
           r.http_referer, a.http_user_agent, r.vhost, r.server_port, r.request_time,
           r.upstream_response_time, r.request_length, r.x_forwarded_for, r.ssl_protocol,
           r.cache_status, r.host, r.source_file, r.source_offset, r.ingested_at,
           a.browser_family, a.browser_major, a.os_family, a.device_family, a.is_bot,
           r.country_code, r.batch_id, r.collected_at, r.stream, r.line_hash
    FROM log_rows r JOIN agents a ON a.agent_id = r.agent_id;
";

/// Version 7, first step (with the upgrade to version 6, in its transaction): each distinct
/// agent (text and derived columns, as stored) in `agents`, and each row of `logs` its id.
/// Idempotent: a step killed after it, or rows stored by an older weblog since, are
/// completed the next time.
const TO_V7_IDS: &str = "
    INSERT INTO agents
        SELECT (SELECT coalesce(max(agent_id), 0) FROM agents)
                   + row_number() OVER (ORDER BY http_user_agent NULLS FIRST, browser_family,
                                        browser_major, os_family, device_family, is_bot)::INTEGER,
               *
        FROM (SELECT DISTINCT http_user_agent, browser_family, browser_major, os_family,
                              device_family, is_bot FROM logs WHERE agent_id IS NULL
              EXCEPT
              SELECT http_user_agent, browser_family, browser_major, os_family,
                     device_family, is_bot FROM agents);
    UPDATE logs SET agent_id = a.agent_id FROM agents a
     WHERE logs.agent_id IS NULL
       AND a.http_user_agent IS NOT DISTINCT FROM logs.http_user_agent
       AND a.browser_family IS NOT DISTINCT FROM logs.browser_family
       AND a.browser_major IS NOT DISTINCT FROM logs.browser_major
       AND a.os_family IS NOT DISTINCT FROM logs.os_family
       AND a.device_family IS NOT DISTINCT FROM logs.device_family
       AND a.is_bot IS NOT DISTINCT FROM logs.is_bot;
";

/// Version 7, second step, in a transaction of its own (DuckDB refuses to drop a column of
/// a table updated in the same transaction): the agent columns dropped, `logs` renamed
/// `log_rows` (for the empty one the schema made), then the view. No row is rewritten:
/// 2 M rows upgrade in 0.2 s and the file does not grow (bench/NOTES.md §18).
const TO_V7_SPLIT: &str = "
    DROP TABLE log_rows;
    ALTER TABLE logs DROP COLUMN http_user_agent;
    ALTER TABLE logs DROP COLUMN browser_family;
    ALTER TABLE logs DROP COLUMN browser_major;
    ALTER TABLE logs DROP COLUMN os_family;
    ALTER TABLE logs DROP COLUMN device_family;
    ALTER TABLE logs DROP COLUMN is_bot;
    ALTER TABLE logs RENAME TO log_rows;
    ALTER TABLE log_rows ALTER COLUMN agent_id SET NOT NULL;
";

/// What version 3 adds to a version 2 database (each statement idempotent).
const TO_V3: &str = "
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS client_addr VARCHAR;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS hour UTINYINT;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS vhost VARCHAR;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS server_port INTEGER;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS request_time DOUBLE;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS upstream_response_time DOUBLE;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS request_length BIGINT;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS x_forwarded_for VARCHAR;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS ssl_protocol VARCHAR;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS cache_status VARCHAR;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS host VARCHAR;
    -- Version-2 checkpoints were all made with a 64-byte marker and no format.
    ALTER TABLE checkpoints ADD COLUMN IF NOT EXISTS marker_len UBIGINT DEFAULT 64;
    ALTER TABLE checkpoints ADD COLUMN IF NOT EXISTS format VARCHAR;
    ALTER TABLE checkpoints ADD COLUMN IF NOT EXISTS format_state VARCHAR;
    ALTER TABLE rejects ADD COLUMN IF NOT EXISTS line_hash UBIGINT;
    CREATE TABLE IF NOT EXISTS batches (
        seq BIGINT PRIMARY KEY,
        ingested_at TIMESTAMPTZ NOT NULL,
        rows BIGINT NOT NULL,
        committed_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE IF NOT EXISTS lake_exports (
        lake VARCHAR PRIMARY KEY,
        seq BIGINT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
";

/// Values of the version 3 columns for rows stored before them: every older row was a
/// combined/common line, whose hour is the two digits after the day in its first '['
/// (where version 2's hourly rollup read it).
const TO_V3_ROWS: &str = "
    UPDATE logs SET client_addr = remote_addr,
        hour = TRY_CAST(substr(raw_log, strpos(raw_log, '[') + 13, 2) AS UTINYINT);
    -- The batches the rows were committed in (each had its own ingested_at), in order.
    INSERT INTO batches
        SELECT row_number() OVER (ORDER BY ingested_at), ingested_at, count(*), ingested_at
        FROM logs GROUP BY ingested_at;
";

/// What version 4 adds: the batch of each row, explicit. Rows stored before it are of the
/// batch with their ingested_at (each batch had its own, which identified it until then).
const TO_V4: &str = "
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS batch_id BIGINT;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS collected_at TIMESTAMPTZ;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS stream VARCHAR;
";
/// What version 5 adds: each row's line hash. Older rows keep NULL (hashing them would read
/// every stored line at the upgrade); the anti-join compares those by their raw line.
const TO_V5: &str = "
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS line_hash UBIGINT;
    -- Version 7's agent id, added with the other columns (filled by TO_V7_IDS).
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS agent_id INTEGER;
";
// Version 6 adds the `visitor_salts` table only: the upgrade's "missing tables" step (the
// whole schema, each statement IF NOT EXISTS) creates it.
const TO_V4_ROWS: &str = "
    UPDATE logs SET batch_id = b.seq FROM batches b
    WHERE logs.ingested_at = b.ingested_at AND logs.batch_id IS NULL;
";

/// What version 2 added to version 1: the derived user-agent and country columns.
const TO_V2: &str = "
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS browser_family VARCHAR;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS browser_major VARCHAR;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS os_family VARCHAR;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS device_family VARCHAR;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS is_bot BOOLEAN;
    ALTER TABLE logs ADD COLUMN IF NOT EXISTS country_code VARCHAR;
";

/// Tables that exist in the main catalog of `conn`.
fn tables(conn: &Connection) -> duckdb::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT table_name FROM duckdb_tables()
         WHERE database_name = current_database() AND schema_name = 'main'",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

impl Warehouse {
    /// The stored schema version (0 for a new, empty database), after refusing a database
    /// this weblog must not write to. Reads only.
    pub(super) fn check_versions(&self) -> Result<i64> {
        let db = self.path.display().to_string();
        let existing =
            tables(&self.conn).context(ErrorKind::Data, || format!("cannot read {db}"))?;
        if !existing.iter().any(|t| t == "weblog_meta") {
            if existing.is_empty() {
                return Ok(0);
            }
            return Err(Error::new(
                ErrorKind::Data,
                format!(
                    "database {db} is not a weblog database (it has tables but no weblog_meta); pass another --db"
                ),
            ));
        }
        let read = |key: &str| -> Result<Option<i64>> {
            let value: Option<String> = self
                .conn
                .query_row(
                    "SELECT max(value) FROM weblog_meta WHERE key = ?",
                    [key],
                    |r| r.get(0),
                )
                .context(ErrorKind::Data, || {
                    format!("cannot read the versions of {db}")
                })?;
            value
                .map(|v| {
                    v.parse::<i64>().map_err(|_| {
                        Error::new(
                            ErrorKind::Data,
                            format!("database {db} has an unreadable {key} {v:?}"),
                        )
                    })
                })
                .transpose()
        };
        let schema = read("schema_version")?.unwrap_or(0);
        if schema > SCHEMA_VERSION {
            return Err(Error::new(
                ErrorKind::Data,
                format!(
                    "database {db} has schema version {schema}, written by a newer weblog (this one knows {SCHEMA_VERSION}); upgrade weblog"
                ),
            ));
        }
        let checkpoints = read("checkpoint_format")?.unwrap_or(1);
        if checkpoints > CHECKPOINT_FORMAT {
            return Err(Error::new(
                ErrorKind::Data,
                format!(
                    "database {db} has checkpoint format {checkpoints}, written by a newer weblog (this one knows {CHECKPOINT_FORMAT}); upgrade weblog"
                ),
            ));
        }
        Ok(schema)
    }

    /// Create the schema in a new database (its versions with it, atomically).
    pub(super) fn apply_schema(&mut self) -> Result<()> {
        if self.stored_version != 0 {
            return Ok(());
        }
        let db = self.path.display().to_string();
        self.conn
            .execute_batch(&format!(
                "BEGIN; {SCHEMA}; {LOGS_VIEW};
                 INSERT INTO weblog_meta VALUES ('schema_version', '{SCHEMA_VERSION}'),
                     ('checkpoint_format', '{CHECKPOINT_FORMAT}');
                 COMMIT;"
            ))
            .context(ErrorKind::Data, || format!("cannot set up schema in {db}"))?;
        self.stored_version = SCHEMA_VERSION;
        Ok(())
    }

    /// Bring a database of an older schema up to date, in one transaction: the new columns,
    /// and values for the rows stored without them. `host` is the server the existing rows
    /// came from (a warehouse held one server's logs before version 3).
    pub fn upgrade(&mut self, enricher: &mut Enricher, host: &str) -> Result<()> {
        let from = self.stored_version;
        if from >= SCHEMA_VERSION {
            return Ok(());
        }
        let db = self.path.display().to_string();
        let fail = |what: &str, e: String| {
            Error::new(ErrorKind::Data, format!("{what} ({db}): {}", one_line(&e)))
        };
        let loader = &self.loader;
        // Version 1 rows lack the user-agent columns: classified per distinct agent here,
        // handed to DuckDB as a view (made before the transaction, as every scan).
        let mut agents_frame = if from < 2 {
            let agents: Vec<Option<String>> = {
                let mut stmt = self
                    .conn
                    .prepare("SELECT DISTINCT http_user_agent FROM logs")
                    .map_err(|e| fail("cannot read agents to upgrade", e.to_string()))?;
                let rows = stmt
                    .query_map([], |r| r.get(0))
                    .map_err(|e| fail("cannot read agents to upgrade", e.to_string()))?;
                rows.collect::<duckdb::Result<_>>()
                    .map_err(|e| fail("cannot read agents to upgrade", e.to_string()))?
            };
            Some(
                crate::parse::agent_frame(&agents, enricher)
                    .map_err(|e| fail("cannot build agent frame", e.to_string()))?,
            )
        } else {
            None
        };
        let agents = match &mut agents_frame {
            Some(frame) => Some(
                loader
                    .scan("weblog_agents", frame)
                    .map_err(|e| fail("cannot upgrade stored rows", e))?,
            ),
            None => None,
        };
        let steps = || -> std::result::Result<(), (&'static str, String)> {
            let run = |what: &'static str, sql: &str| {
                loader.execute(sql).map(|_| ()).map_err(|e| (what, e))
            };
            run("cannot begin the upgrade", "BEGIN TRANSACTION")?;
            // Every table and column first, then the values (DuckDB alters a table before
            // updating it).
            run("cannot add the missing tables", SCHEMA)?;
            if agents.is_some() {
                run("cannot add the user-agent columns", TO_V2)?;
            }
            if from < 3 {
                run("cannot add the version 3 columns", TO_V3)?;
            }
            run("cannot add the batch column", TO_V4)?;
            run("cannot add the line hash column", TO_V5)?;
            if let Some(agents) = &agents {
                run(
                    "cannot upgrade stored rows",
                    &format!(
                        "UPDATE logs SET browser_family = u.browser_family, browser_major = u.browser_major,
                             os_family = u.os_family, device_family = u.device_family, is_bot = u.is_bot
                         FROM {} u
                         WHERE logs.http_user_agent IS NOT DISTINCT FROM u.http_user_agent",
                        agents.table
                    ),
                )?;
            }
            if from < 3 {
                run("cannot fill the version 3 columns", TO_V3_ROWS)?;
                run(
                    "cannot record the host of stored rows",
                    &format!(
                        "UPDATE logs SET host = {} WHERE host IS NULL",
                        string_literal(host)
                    ),
                )?;
            }
            run("cannot number the stored rows' batches", TO_V4_ROWS)?;
            run("cannot number the stored agents", TO_V7_IDS)?;
            let version = |v: i64| {
                format!(
                    "INSERT OR REPLACE INTO weblog_meta VALUES ('schema_version', '{v}'),
                         ('checkpoint_format', '{CHECKPOINT_FORMAT}')"
                )
            };
            run("cannot write the schema version", &version(6))?;
            run("cannot write the data version", BUMP_DATA_VERSION)?;
            run("cannot commit the upgrade", "COMMIT")?;
            crate::failpoint::hit("during-upgrade");
            run("cannot begin the upgrade", "BEGIN TRANSACTION")?;
            run("cannot store each user agent once", TO_V7_SPLIT)?;
            run("cannot create the logs view", LOGS_VIEW)?;
            run("cannot write the schema version", &version(SCHEMA_VERSION))?;
            run("cannot commit the upgrade", "COMMIT")
        };
        steps().map_err(|(what, e)| {
            let _ = loader.execute("ROLLBACK");
            fail(what, e)
        })?;
        drop(agents);
        tracing::info!(from, to = SCHEMA_VERSION, "database upgraded");
        self.stored_version = SCHEMA_VERSION;
        Ok(())
    }
}
