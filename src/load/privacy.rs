//! What the warehouse records of its privacy settings: the `--anonymize-ip` level and the
//! `--visitor-id` in force and since when (`weblog_meta`: `anonymize_ip`,
//! `anonymize_ip_since`, `visitor_id`, `visitor_id_since`), and the daily salts of
//! `--visitor-id hashed` (`visitor_salts`), each deleted once its day is over.

use std::collections::HashMap;

use duckdb::OptionalExt;

use super::Warehouse;
use crate::enrich::visitor_id::{Salt, salt_from_hex};
use crate::enrich::{AnonymizeIp, VisitorId};
use crate::error::{Context, ErrorKind, Result};

impl Warehouse {
    /// Record the run's `--anonymize-ip` level. When it differs from the one recorded (or
    /// none was, and it is on), returns the warning that says what changed: a level applies
    /// to the rows stored from this run on, never to rows already stored.
    pub fn record_anonymize_ip(&mut self, level: AnonymizeIp) -> Result<Option<String>> {
        self.anonymized = level.is_on();
        let Some((before, stored)) = self.record_setting("anonymize_ip", "off", level.name())?
        else {
            return Ok(None);
        };
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

    /// Record the run's `--visitor-id`; when it changed (with rows stored), the warning
    /// that says so: a day that has rows of both counts their visitors twice.
    pub fn record_visitor_id(&mut self, id: VisitorId) -> Result<Option<String>> {
        let Some((before, stored)) = self.record_setting("visitor_id", "address", id.name())?
        else {
            return Ok(None);
        };
        Ok((stored > 0).then(|| {
            format!(
                "--visitor-id {} from this run on (it was {before}): the {stored} rows stored before keep their client addresses; a day with rows of both counts each visitor once per kind",
                id.name()
            )
        }))
    }

    /// The daily salts kept (days since 1970-01-01).
    pub fn visitor_salts(&self) -> Result<HashMap<i32, Salt>> {
        let what = || format!("cannot read the daily salts of {}", self.path.display());
        let mut stmt = self
            .conn
            .prepare("SELECT (day - DATE '1970-01-01')::INTEGER, salt FROM visitor_salts")
            .context(ErrorKind::Data, what)?;
        let rows: Vec<(i32, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .context(ErrorKind::Data, what)?;
        // A salt that does not read back is dropped: its day gets a new one.
        Ok(rows
            .into_iter()
            .filter_map(|(day, text)| Some((day, salt_from_hex(&text)?)))
            .collect())
    }

    /// Delete the salts of days that are over: older than the day before the newest stored
    /// day, or than yesterday (UTC). Kept that long for lines that arrive late (a day's last
    /// minutes read after midnight, a time zone ahead of UTC). Returns how many went.
    pub fn forget_old_salts(&self, today_utc: chrono::NaiveDate) -> Result<usize> {
        self.conn
            .execute(
                "DELETE FROM visitor_salts
                 WHERE day < (SELECT max(day) FROM log_rows) - 1 OR day < ?::DATE - 1",
                [today_utc.format("%Y-%m-%d").to_string()],
            )
            .context(ErrorKind::Data, || {
                format!("cannot delete old daily salts in {}", self.path.display())
            })
    }

    /// Record `value` for the setting `key` (and `<key>_since`) if it differs from the one
    /// recorded (`default` when none was): the value before and how many rows were stored
    /// under it, or None when nothing changed.
    fn record_setting(
        &self,
        key: &str,
        default: &str,
        value: &str,
    ) -> Result<Option<(String, i64)>> {
        let what = || format!("cannot record {key} in {}", self.path.display());
        let recorded: Option<String> = self
            .conn
            .query_row("SELECT value FROM weblog_meta WHERE key = ?", [key], |r| {
                r.get(0)
            })
            .optional()
            .context(ErrorKind::Data, what)?;
        let before = recorded.unwrap_or_else(|| default.to_string());
        if before == value {
            return Ok(None);
        }
        let stored: i64 = self
            .conn
            .query_row("SELECT count(*) FROM log_rows", [], |r| r.get(0))
            .context(ErrorKind::Data, what)?;
        self.conn
            .execute_batch(&format!(
                "BEGIN TRANSACTION;
                 INSERT OR REPLACE INTO weblog_meta VALUES ('{key}', '{value}'),
                     ('{key}_since', strftime(now(), '%Y-%m-%dT%H:%M:%S%z'));
                 COMMIT;"
            ))
            .context(ErrorKind::Data, what)?;
        Ok(Some((before, stored)))
    }
}
