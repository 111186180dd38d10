//! What the warehouse records of its privacy settings: the `--anonymize-ip` level in force
//! and since when (`weblog_meta`: `anonymize_ip`, `anonymize_ip_since`).

use duckdb::OptionalExt;

use super::Warehouse;
use crate::enrich::AnonymizeIp;
use crate::error::{Context, ErrorKind, Result};

impl Warehouse {
    /// Record the run's `--anonymize-ip` level. When it differs from the one recorded (or
    /// none was, and it is on), returns the warning that says what changed: a level applies
    /// to the rows stored from this run on, never to rows already stored.
    pub fn record_anonymize_ip(&mut self, level: AnonymizeIp) -> Result<Option<String>> {
        self.anonymized = level.is_on();
        let what = || format!("cannot record --anonymize-ip in {}", self.path.display());
        let recorded: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM weblog_meta WHERE key = 'anonymize_ip'",
                [],
                |r| r.get(0),
            )
            .optional()
            .context(ErrorKind::Data, what)?;
        let before = recorded.as_deref().unwrap_or("off");
        if before == level.name() {
            return Ok(None);
        }
        let stored: i64 = self
            .conn
            .query_row("SELECT count(*) FROM logs", [], |r| r.get(0))
            .context(ErrorKind::Data, what)?;
        self.conn
            .execute_batch(&format!(
                "BEGIN TRANSACTION;
                 INSERT OR REPLACE INTO weblog_meta VALUES ('anonymize_ip', '{}'),
                     ('anonymize_ip_since', strftime(now(), '%Y-%m-%dT%H:%M:%S%z'));
                 COMMIT;",
                level.name()
            ))
            .context(ErrorKind::Data, what)?;
        if stored == 0 {
            return Ok(None);
        }
        Ok(Some(if level.is_on() {
            format!(
                "--anonymize-ip {} from this run on: the {stored} rows stored before keep their addresses as logged{}",
                level.name(),
                if before == "off" {
                    ""
                } else {
                    " (or as masked then)"
                }
            )
        } else {
            format!(
                "--anonymize-ip off from this run on (it was {before}): new rows keep full addresses"
            )
        }))
    }
}
