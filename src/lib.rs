//! weblog: incremental web access-log ETL. Each stage is a module with a typed input and
//! output: `source` (files → complete lines) → `parse` (lines → Polars frame + rejects) →
//! `load` (frame → DuckDB, with checkpoints) → `transform` (sql/*.sql) → `export`
//! (Parquet/CSV) → `report`. `pipeline` runs one pass; `generate` writes demo logs. Around
//! it, the operator's commands: `watch` (a pass every interval), `dashboard` (report.html),
//! `query` (`weblog sql`), `status`, `metrics` (Prometheus textfile), `progress`,
//! `retention` (`weblog prune`) and `forget` (erasure of one visitor); `cli` is the command
//! line and its config file.

pub mod cli;
pub mod dashboard;
pub mod enrich;
pub mod error;
pub mod export;
pub mod failpoint;
pub mod forget;
pub mod generate;
pub mod load;
pub mod memory;
pub mod metrics;
pub mod parse;
pub mod pipeline;
pub mod progress;
pub mod query;
pub mod report;
pub mod retention;
pub mod source;
pub mod sql_text;
pub mod status;
pub mod summary;
pub mod transform;
pub mod watch;
