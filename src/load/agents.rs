//! Each user agent stored once: the loader replaces a batch's agent text and the five
//! columns derived from it by the id of its row in `agents`, adding the agents not stored
//! yet in the same transaction as the rows. Ids of the agents seen are kept in memory; a
//! batch's agents not seen yet are looked up in `agents` together, so a run reads only the
//! agents it meets, however many years of them are stored.

use polars::prelude::*;

use super::raw::RawConnection;
use super::schema::AGENT_COLUMNS;

/// The ids of the stored agents this process has met.
#[derive(Default)]
pub(super) struct AgentIds {
    by_text: PlHashMap<String, i32>,
    /// The id of the absent agent (a format without one, or `-`), once met.
    absent: Option<i32>,
    /// `agents`' row count and largest id as of the last commit or lookup: anything else
    /// that adds or removes agents (masking, forgetting, retention) changes one of them,
    /// and the ids met are forgotten.
    stored: (i64, i32),
}

/// A batch's rows with agent ids, and the agents it adds.
pub(super) struct Encoded {
    pub rows: DataFrame,
    /// New rows of `agents` (empty when every agent was stored).
    pub agents: DataFrame,
    added: Vec<(Option<String>, i32)>,
}

impl AgentIds {
    /// Replace `logs`' agent columns by `agent_id`: the ids of stored agents, and the next
    /// ids for the others, with their derived columns as in their first row.
    pub fn encode(&mut self, sql: &RawConnection, logs: &DataFrame) -> Result<Encoded, String> {
        let text = logs
            .column("http_user_agent")
            .and_then(|c| c.str())
            .map_err(|e| e.to_string())?;
        self.look_up(sql, text)?;
        let mut next = self.stored.1;
        let mut added: Vec<(Option<String>, i32)> = Vec::new();
        let mut batch: PlHashMap<&str, i32> = PlHashMap::new();
        let mut absent = self.absent;
        let mut first_rows: Vec<IdxSize> = Vec::new();
        let mut ids: Vec<i32> = Vec::with_capacity(logs.height());
        for (row, agent) in text.iter().enumerate() {
            let id = match agent {
                Some(t) => match self.by_text.get(t).or_else(|| batch.get(t)) {
                    Some(&id) => id,
                    None => {
                        next += 1;
                        batch.insert(t, next);
                        added.push((Some(t.to_string()), next));
                        first_rows.push(row as IdxSize);
                        next
                    }
                },
                None => *absent.get_or_insert_with(|| {
                    next += 1;
                    added.push((None, next));
                    first_rows.push(row as IdxSize);
                    next
                }),
            };
            ids.push(id);
        }
        let polars = |e: PolarsError| e.to_string();
        let mut rows = logs.drop_many(AGENT_COLUMNS);
        rows.with_column(Column::new("agent_id".into(), ids))
            .map_err(polars)?;
        let agents = if added.is_empty() {
            DataFrame::empty()
        } else {
            let firsts = IdxCa::from_vec("".into(), first_rows);
            let mut agents = logs
                .select(AGENT_COLUMNS)
                .and_then(|a| a.take(&firsts))
                .map_err(polars)?;
            let new_ids: Vec<i32> = added.iter().map(|(_, id)| *id).collect();
            agents
                .with_column(Column::new("agent_id".into(), new_ids))
                .map_err(polars)?;
            agents
        };
        Ok(Encoded {
            rows,
            agents,
            added,
        })
    }

    /// Learn the ids of the stored agents among `text` not met yet (all at once).
    fn look_up(&mut self, sql: &RawConnection, text: &StringChunked) -> Result<(), String> {
        let stored = table_state(sql)?;
        if stored != self.stored {
            *self = AgentIds {
                stored,
                ..AgentIds::default()
            };
        }
        if stored.0 == 0 {
            return Ok(());
        }
        let mut unmet: PlHashSet<&str> = PlHashSet::new();
        let mut absent = false;
        for agent in text.iter() {
            match agent {
                Some(t) if !self.by_text.contains_key(t) => {
                    unmet.insert(t);
                }
                None if self.absent.is_none() => absent = true,
                _ => {}
            }
        }
        if unmet.is_empty() && !absent {
            return Ok(());
        }
        let unmet: Vec<&str> = unmet.into_iter().collect();
        let mut wanted = DataFrame::new(
            unmet.len(),
            vec![Column::new("http_user_agent".into(), unmet)],
        )
        .map_err(|e| e.to_string())?;
        let found = {
            let scan = match wanted.height() {
                0 => None,
                _ => Some(sql.scan("weblog_unmet_agents", &mut wanted)?),
            };
            let texts = scan.as_ref().map_or("false".to_string(), |s| {
                format!(
                    "http_user_agent IN (SELECT http_user_agent FROM {})",
                    s.table
                )
            });
            let absent = if absent {
                "OR http_user_agent IS NULL"
            } else {
                ""
            };
            // A text classified two ways (before schema 7) maps to its latest row.
            sql.query(&format!(
                "SELECT agent_id, http_user_agent FROM agents WHERE {texts} {absent}
                 ORDER BY agent_id"
            ))?
        };
        for row in found {
            let id = row
                .first()
                .cloned()
                .flatten()
                .and_then(|v| v.parse::<i32>().ok())
                .ok_or("an agent without an id")?;
            match row.get(1).cloned().flatten() {
                Some(text) => {
                    self.by_text.insert(text, id);
                }
                None => self.absent = Some(id),
            }
        }
        Ok(())
    }

    /// After the transaction that stored `encoded`'s agents committed.
    pub fn adopt(&mut self, encoded: Encoded) {
        for (text, id) in encoded.added {
            match text {
                Some(t) => {
                    self.by_text.insert(t, id);
                }
                None => self.absent = Some(id),
            }
            self.stored.0 += 1;
            self.stored.1 = self.stored.1.max(id);
        }
    }
}

/// `agents`' row count and largest id.
fn table_state(sql: &RawConnection) -> Result<(i64, i32), String> {
    let rows = sql.query("SELECT count(*), coalesce(max(agent_id), 0) FROM agents")?;
    let row = rows.into_iter().next().unwrap_or_default();
    let number = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
    Ok((
        number(0).parse().map_err(|_| "cannot count agents")?,
        number(1).parse().map_err(|_| "cannot count agents")?,
    ))
}

/// Delete the agents no stored row has (after rows were deleted): nothing of a forgotten
/// visitor is kept, and the table does not outgrow the rows retention keeps.
pub(crate) const DELETE_UNUSED_AGENTS: &str = "DELETE FROM agents WHERE agent_id NOT IN (SELECT agent_id FROM log_rows WHERE agent_id IS NOT NULL)";

/// Mask the agents of the rows of `log_rows` matching `filter`: each row whose agent's text
/// masking at `level` changes is pointed at the agent with the masked text and the same derived columns
/// (added if none is stored). Other rows keep the agent as it was.
pub(super) fn mask_agents(
    conn: &duckdb::Connection,
    filter: &str,
    level: crate::enrich::AnonymizeIp,
) -> duckdb::Result<()> {
    let agents: Vec<(i32, String)> = conn
        .prepare(&format!(
            "SELECT DISTINCT a.agent_id, a.http_user_agent
             FROM (SELECT DISTINCT agent_id FROM log_rows WHERE {filter}) r
             JOIN agents a ON a.agent_id = r.agent_id
             WHERE a.http_user_agent IS NOT NULL"
        ))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<duckdb::Result<_>>()?;
    for (id, text) in &agents {
        let masked = match level.mask_text(text) {
            std::borrow::Cow::Borrowed(_) => continue,
            std::borrow::Cow::Owned(m) => m,
        };
        let same = "a.browser_family IS NOT DISTINCT FROM o.browser_family
                AND a.browser_major IS NOT DISTINCT FROM o.browser_major
                AND a.os_family IS NOT DISTINCT FROM o.os_family
                AND a.device_family IS NOT DISTINCT FROM o.device_family
                AND a.is_bot IS NOT DISTINCT FROM o.is_bot";
        let found: Option<i32> = conn.query_row(
            &format!(
                "SELECT min(a.agent_id) FROM agents a, agents o
                 WHERE o.agent_id = ? AND a.http_user_agent = ? AND {same}"
            ),
            duckdb::params![id, masked],
            |r| r.get(0),
        )?;
        let target = match found {
            Some(t) => t,
            None => {
                let next: i32 = conn.query_row(
                    "SELECT coalesce(max(agent_id), 0) + 1 FROM agents",
                    [],
                    |r| r.get(0),
                )?;
                conn.execute(
                    "INSERT INTO agents SELECT ?, ?, browser_family, browser_major, os_family,
                            device_family, is_bot FROM agents WHERE agent_id = ?",
                    duckdb::params![next, masked, id],
                )?;
                next
            }
        };
        conn.execute(
            &format!("UPDATE log_rows SET agent_id = ? WHERE agent_id = ? AND {filter}"),
            duckdb::params![target, id],
        )?;
    }
    Ok(())
}
