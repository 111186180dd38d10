//! weblog: incremental web access-log ETL. Each stage is a module with a typed input and
//! output: `source` (files → complete lines) → `parse` (lines → Polars frame + rejects) →
//! `load` (frame → DuckDB, with checkpoints) → `transform` (sql/*.sql) → `export`
//! (Parquet/CSV) → `report`. `pipeline` runs one pass; `generate` writes demo logs.

pub mod enrich;
pub mod error;
pub mod export;
pub mod failpoint;
pub mod generate;
pub mod load;
pub mod parse;
pub mod pipeline;
pub mod report;
pub mod source;
pub mod transform;
