//! Each user agent stored once (schema 7): `agents` holds each agent's text and derived
//! columns once, `log_rows` an id, and the `logs` view gives every row its own agent back.
//! Expected agents come from a reference reading of the lines here (the last quoted field),
//! the upgrade is compared row for row with the table it replaced.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, Local, NaiveDate};
use common::{Env, complete_lines, fixture};

/// The agent of a combined line: its third quoted field, or what follows its quote on a
/// line cut short ("-" is none). The fixture's lines hold no escaped quote.
fn reference_agent(line: &str) -> Option<String> {
    let agent = line.split('"').nth(5)?;
    (agent != "-").then(|| agent.to_string())
}

/// The two columns `sql` selects, as a map from the first to the second.
fn pairs<K, V>(conn: &duckdb::Connection, sql: &str) -> BTreeMap<K, V>
where
    K: duckdb::types::FromSql + Ord,
    V: duckdb::types::FromSql,
{
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Every stored row's raw line and agent, through the `logs` view.
fn stored_agents(env: &Env) -> BTreeMap<String, Option<String>> {
    pairs(&env.db(), "SELECT raw_log, http_user_agent FROM logs")
}

/// The `agents` table: id → text; after checking that every stored row has its agent
/// there (the `logs` view joins them: a row without would not be seen).
fn agents_table(env: &Env) -> BTreeMap<i32, Option<String>> {
    let conn = env.db();
    let (rows, seen, dangling): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM log_rows), (SELECT count(*) FROM logs),
                    (SELECT count(*) FROM log_rows WHERE agent_id NOT IN (SELECT agent_id FROM agents))",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((seen, dangling), (rows, 0), "rows without their agent");
    pairs(&conn, "SELECT agent_id, http_user_agent FROM agents")
}

/// The one value `sql` selects.
fn value<T: duckdb::types::FromSql>(conn: &duckdb::Connection, sql: &str) -> T {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// An agent and its family, major version and bot flag.
type Classified = (Option<String>, Option<String>, Option<String>, Option<bool>);

fn write(env: &Env, lines: &[String]) {
    std::fs::write(env.logs().join("access.log"), lines.join("\n") + "\n").unwrap();
}

#[test]
fn each_agent_is_stored_once_and_every_row_reads_its_own() {
    let env = Env::new();
    let lines = complete_lines(&fixture("apache_logs"));
    let (first, _) = lines.split_at(lines.len() / 2);
    write(&env, first);
    env.run(&[]);
    let after_first = agents_table(&env);
    write(&env, &lines);
    env.run(&[]);

    let stored = stored_agents(&env);
    assert!(stored.len() > 9_000, "{} rows stored", stored.len());
    for (raw, agent) in &stored {
        assert_eq!(agent, &reference_agent(raw), "{raw}");
    }
    let agents = agents_table(&env);
    let texts: Vec<&Option<String>> = agents.values().collect();
    let distinct: BTreeSet<&Option<String>> = texts.iter().copied().collect();
    assert_eq!(texts.len(), distinct.len(), "an agent stored twice");
    let expected: BTreeSet<Option<String>> = stored.keys().map(|l| reference_agent(l)).collect();
    assert_eq!(
        distinct,
        expected.iter().collect(),
        "the agents of the stored rows"
    );
    assert!(expected.len() > 500, "{} agents", expected.len());
    // The first run's ids still mean the same agents.
    for (id, text) in &after_first {
        assert_eq!(agents.get(id), Some(text), "agent {id} changed");
    }
    assert!(agents.len() > after_first.len());
    // One classification per agent, as a fresh warehouse of the same lines gives it.
    let fresh = Env::new();
    write(&fresh, &lines);
    fresh.run(&[]);
    let classified = |env: &Env| -> BTreeSet<(Option<String>, Option<String>, Option<bool>)> {
        let conn = env.db();
        let mut stmt = conn
            .prepare("SELECT DISTINCT http_user_agent, browser_family, is_bot FROM logs")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(classified(&env), classified(&fresh));
    assert_eq!(classified(&env).len(), expected.len());
    // Each agent with its own classification, by hand for plain desktop Firefox (family,
    // major version from its text) and for Googlebot (a bot).
    let conn = env.db();
    let mut stmt = conn
        .prepare("SELECT DISTINCT http_user_agent, browser_family, browser_major, is_bot FROM logs")
        .unwrap();
    let rows: Vec<Classified> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let (mut firefox, mut googlebot) = (0, 0);
    for (agent, family, major, bot) in &rows {
        let Some(agent) = agent else { continue };
        let plain_firefox = agent
            .rsplit_once(") Gecko/20100101 Firefox/")
            .and_then(|(_, v)| v.split_once('.'))
            .filter(|(m, n)| {
                [m, n]
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            });
        if let Some((m, _)) = plain_firefox {
            firefox += 1;
            assert_eq!(family.as_deref(), Some("Firefox"), "{agent}");
            assert_eq!(major.as_deref(), Some(m), "{agent}");
            assert_eq!(*bot, Some(false), "{agent}");
        }
        if agent.contains("Googlebot") {
            googlebot += 1;
            assert_eq!(*bot, Some(true), "{agent}");
        }
    }
    assert!(
        firefox > 20 && googlebot > 3,
        "{firefox} Firefox, {googlebot} Googlebot"
    );
}

/// The rows of `query` as text, one string per row (every column), sorted.
fn rows_text(conn: &duckdb::Connection, query: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT CAST(t AS VARCHAR) FROM ({query}) t ORDER BY 1"
        ))
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_schema_6_warehouse_is_upgraded_row_for_row() {
    let env = Env::new();
    let lines = complete_lines(&fixture("apache_logs"));
    let (first, _) = lines.split_at(4_000);
    write(&env, first);
    env.run(&[]);
    let chrome = "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.107 Safari/537.36";
    let before = {
        // What schema 6 stored: one `logs` table, agent columns in each row; one agent
        // classified two ways (an enricher changed between runs).
        let conn = duckdb::Connection::open(env.db_path()).unwrap();
        conn.execute_batch(&format!(
            "CREATE TABLE old_logs AS SELECT * FROM logs;
             DROP VIEW logs; DROP TABLE log_rows; DROP TABLE agents;
             ALTER TABLE old_logs RENAME TO logs;
             UPDATE logs SET browser_family = 'Older Chrome'
              WHERE http_user_agent = '{chrome}' AND source_offset % 2 = 0;
             UPDATE weblog_meta SET value = '6' WHERE key = 'schema_version';"
        ))
        .unwrap();
        let two_ways: i64 = value(
            &conn,
            &format!(
                "SELECT count(DISTINCT browser_family) FROM logs WHERE http_user_agent = '{chrome}'"
            ),
        );
        assert_eq!(two_ways, 2, "the fixture has that agent on several lines");
        rows_text(&conn, "SELECT * FROM logs")
    };
    assert!(before.len() >= 3_900);
    let raw_blocks = |table: &str| -> BTreeSet<i64> {
        let conn = env.db();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT DISTINCT block_id FROM pragma_storage_info('{table}')
                 WHERE column_name = 'raw_log' AND block_id >= 0"
            ))
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let old_blocks = raw_blocks("logs");
    assert!(!old_blocks.is_empty());

    // Killed between its two transactions: still version 6, each row with its agent's id.
    let args = env.run_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let killed = env.weblog_env(&args, &[("WEBLOG_FAILPOINT", "during-upgrade")]);
    assert!(!killed.status.success(), "{killed:?}");
    {
        let conn = env.db();
        let (version, unnumbered): (String, i64) = conn
            .query_row(
                "SELECT (SELECT value FROM weblog_meta WHERE key = 'schema_version'),
                        (SELECT count(*) FROM logs WHERE agent_id IS NULL)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((version.as_str(), unnumbered), ("6", 0));
        assert_eq!(
            rows_text(&conn, "SELECT * EXCLUDE (agent_id) FROM logs"),
            before
        );
    }
    // The next run completes it, without rewriting the stored rows.
    env.run(&[]);
    assert_eq!(
        raw_blocks("log_rows"),
        old_blocks,
        "the raw lines were rewritten"
    );
    write(&env, &lines);
    let summary = env.run(&[]);
    let conn = env.db();
    let version: String = value(
        &conn,
        "SELECT value FROM weblog_meta WHERE key = 'schema_version'",
    );
    assert_eq!(version, "7");
    let kind: String = value(
        &conn,
        "SELECT table_type FROM information_schema.tables WHERE table_name = 'logs'",
    );
    assert_eq!(kind, "VIEW");
    // Every row stored before is there as it was, every column, and the new ones after it.
    let old: BTreeSet<String> = before.into_iter().collect();
    let now: BTreeSet<String> = rows_text(&conn, "SELECT * FROM logs").into_iter().collect();
    let missing: Vec<&String> = old.difference(&now).take(3).collect();
    assert!(
        missing.is_empty(),
        "rows changed by the upgrade: {missing:?}"
    );
    assert_eq!(
        now.len() as u64,
        old.len() as u64 + common::num(&summary, "inserted")
    );
    let ways: i64 = value(
        &conn,
        &format!("SELECT count(*) FROM agents WHERE http_user_agent = '{chrome}'"),
    );
    assert_eq!(ways, 2, "each classification of the agent kept");
}

fn today() -> NaiveDate {
    Local::now().date_naive()
}

fn line(ip: &str, days_ago: u64, path: &str, agent: &str) -> String {
    let day = today() - Days::new(days_ago);
    format!(
        r#"{ip} - - [{}:10:00:00 +0000] "GET {path} HTTP/1.1" 200 100 "-" "{agent}""#,
        day.format("%d/%b/%Y")
    )
}

fn command(env: &Env, cmd: &str, extra: &[&str]) {
    let mut args = env.run_args();
    args[0] = cmd.to_string();
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.weblog(&args);
    assert!(out.status.success(), "weblog {cmd}: {out:?}");
}

#[test]
fn an_agent_goes_with_the_last_row_that_has_it_and_is_masked_with_old_rows() {
    let env = Env::new();
    let common_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
    let visitor_agent = "VisitorBrowser/1.0 (one of a kind)";
    let old_agent = "OldBrowser/2.0";
    // An agent naming an address, seen on an old day and on a recent one.
    let bot = "ExampleBot/1.0 (+http://203.0.113.50/bot.html)";
    let lines = vec![
        line("198.51.100.1", 40, "/a", old_agent),
        line("198.51.100.1", 40, "/b", common_agent),
        line("198.51.100.2", 20, "/c", bot),
        line("198.51.100.3", 2, "/d", bot),
        line("198.51.100.4", 2, "/e", common_agent),
        line("203.0.113.7", 2, "/f", visitor_agent),
    ];
    write(&env, &lines);
    env.run(&[]);
    let texts =
        |env: &Env| -> BTreeSet<String> { agents_table(env).into_values().flatten().collect() };
    assert!(texts(&env).contains(old_agent) && texts(&env).contains(visitor_agent));

    command(&env, "forget", &["--ip", "203.0.113.7"]);
    assert!(!texts(&env).contains(visitor_agent), "{:?}", texts(&env));
    assert!(texts(&env).contains(common_agent));

    command(&env, "prune", &["--older-than", "30d"]);
    assert!(!texts(&env).contains(old_agent), "{:?}", texts(&env));
    assert!(texts(&env).contains(common_agent));

    env.run(&["--anonymize-after-days", "14"]);
    let stored = stored_agents(&env);
    let agent_of = |path: &str| {
        stored
            .iter()
            .find(|(raw, _)| raw.contains(&format!("GET {path} ")))
            .and_then(|(_, a)| a.clone())
    };
    assert_eq!(
        agent_of("/c").as_deref(),
        Some("ExampleBot/1.0 (+http://203.0.0.0/bot.html)"),
        "the old row's agent is masked"
    );
    assert_eq!(
        agent_of("/d").as_deref(),
        Some(bot),
        "the recent row's is not"
    );
    // The masked agent keeps what was derived from it.
    let conn = env.db();
    let classes: Vec<(String, Option<bool>)> = conn
        .prepare(
            "SELECT DISTINCT browser_family, is_bot FROM logs
             WHERE http_user_agent LIKE 'ExampleBot/1.0%'",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(classes.len(), 1, "{classes:?}");
    assert_eq!(classes[0].1, Some(true), "{classes:?}");
}
