//! The database opened through DuckDB's C API, so that the loader has a connection of its
//! own: duckdb-rs hides its raw connection handle, and only a raw connection can use
//! `duckdb_arrow_scan`, DuckDB's C++ Arrow scan. That scan converts whole columns and runs
//! on every DuckDB thread, one Arrow batch each; duckdb-rs's `arrow(?)` table function
//! converts value by value on one thread (it was 70% of a backfill).

use std::ffi::{CStr, CString, c_char};
use std::path::Path;
use std::ptr;

use duckdb::ffi;
use polars::prelude::{CompatLevel, DataFrame};
use polars_arrow::array::{Array, PrimitiveArray, StructArray};
use polars_arrow::datatypes::{ArrowDataType, Field};
use polars_arrow::ffi::{ArrowArrayStream, export_iterator};

/// Rows per Arrow batch handed to DuckDB: its row-group size, so each scan thread fills
/// whole row groups.
const ROWS_PER_BATCH: usize = 122_880;

/// The version of the DuckDB library linked or compiled in, e.g. "v1.5.6".
pub fn library_version() -> String {
    // SAFETY: DuckDB returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(ffi::duckdb_library_version()) }
        .to_string_lossy()
        .into_owned()
}

pub struct RawDatabase {
    db: ffi::duckdb_database,
}

// SAFETY: a DuckDB database handle may be used and closed from any thread.
unsafe impl Send for RawDatabase {}

impl RawDatabase {
    /// Open `path` (":memory:" for a scratch database); the error is DuckDB's message.
    pub fn open(path: &Path, read_only: bool) -> Result<RawDatabase, String> {
        let c_path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| "the path contains a NUL byte".to_string())?;
        let mode = if read_only {
            c"READ_ONLY"
        } else {
            c"READ_WRITE"
        };
        // SAFETY: the config is created, used and destroyed here; the error string is
        // DuckDB's allocation, freed with duckdb_free after copying.
        unsafe {
            let mut config: ffi::duckdb_config = ptr::null_mut();
            if ffi::duckdb_create_config(&mut config) != ffi::DuckDBSuccess {
                return Err("cannot create a DuckDB config".into());
            }
            let mut set = ffi::duckdb_set_config(config, c"access_mode".as_ptr(), mode.as_ptr());
            // A new database file in the storage format of DuckDB 1.2 and later, the first
            // that compresses strings with zstd: in the default (0.10) format `raw_log`'s
            // `USING COMPRESSION zstd` silently stores it uncompressed (a warehouse 5x the
            // size, bench/NOTES.md §12). An existing file keeps the format it was made in.
            if !read_only && set == ffi::DuckDBSuccess {
                set = ffi::duckdb_set_config(
                    config,
                    c"storage_compatibility_version".as_ptr(),
                    c"v1.2.0".as_ptr(),
                );
            }
            let mut db: ffi::duckdb_database = ptr::null_mut();
            let mut err: *mut c_char = ptr::null_mut();
            let opened = set == ffi::DuckDBSuccess
                && ffi::duckdb_open_ext(c_path.as_ptr(), &mut db, config, &mut err)
                    == ffi::DuckDBSuccess;
            ffi::duckdb_destroy_config(&mut config);
            if opened {
                return Ok(RawDatabase { db });
            }
            let msg = if err.is_null() {
                "cannot open the database".to_string()
            } else {
                let m = CStr::from_ptr(err).to_string_lossy().into_owned();
                ffi::duckdb_free(err.cast());
                m
            };
            Err(msg)
        }
    }

    pub fn handle(&self) -> ffi::duckdb_database {
        self.db
    }

    pub fn connect(&self) -> Result<RawConnection, String> {
        let mut con: ffi::duckdb_connection = ptr::null_mut();
        // SAFETY: self.db is an open database.
        if unsafe { ffi::duckdb_connect(self.db, &mut con) } != ffi::DuckDBSuccess {
            return Err("cannot connect to the database".into());
        }
        let mut conn = RawConnection {
            con,
            main: String::new(),
        };
        conn.main = conn
            .query("SELECT current_database()")?
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .ok_or("cannot name the database")?;
        Ok(conn)
    }
}

impl Drop for RawDatabase {
    fn drop(&mut self) {
        // SAFETY: opened by duckdb_open_ext and closed once; connections still open keep
        // DuckDB's instance alive until they close.
        unsafe { ffi::duckdb_close(&mut self.db) };
    }
}

/// The in-memory database the Arrow views live in. `duckdb_arrow_scan` creates a view in
/// the default database, and a view in the warehouse file would be written to its WAL at
/// commit, which DuckDB refuses for a scan of process memory; an in-memory database has no
/// WAL. The views are made before the load's transaction begins (a transaction may write
/// to one database only) and read from inside it.
const SCRATCH: &str = "weblog_scratch";

pub struct RawConnection {
    con: ffi::duckdb_connection,
    /// The warehouse's catalog name, to switch back to after making a view.
    main: String,
}

// SAFETY: a connection may move between threads (never used from two at once: &mut/&self
// on one owner).
unsafe impl Send for RawConnection {}

impl RawConnection {
    /// Run one statement; returns the rows it changed.
    pub fn execute(&self, sql: &str) -> Result<u64, String> {
        self.with_result(sql, |r| unsafe { ffi::duckdb_rows_changed(r) })
    }

    /// Run a query with a small result, every value rendered as text (NULL as None).
    pub fn query(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        self.with_result(sql, |r| unsafe {
            let (rows, cols) = (ffi::duckdb_row_count(r), ffi::duckdb_column_count(r));
            (0..rows)
                .map(|row| {
                    (0..cols)
                        .map(|col| {
                            if ffi::duckdb_value_is_null(r, col, row) {
                                return None;
                            }
                            let v = ffi::duckdb_value_varchar(r, col, row);
                            if v.is_null() {
                                return None;
                            }
                            let s = CStr::from_ptr(v).to_string_lossy().into_owned();
                            ffi::duckdb_free(v.cast());
                            Some(s)
                        })
                        .collect()
                })
                .collect()
        })
    }

    fn with_result<T>(
        &self,
        sql: &str,
        read: impl FnOnce(*mut ffi::duckdb_result) -> T,
    ) -> Result<T, String> {
        let c_sql = CString::new(sql).map_err(|_| "SQL contains a NUL byte".to_string())?;
        // SAFETY: the result is initialised by duckdb_query (also on error) and destroyed
        // exactly once, after `read` is done with it.
        unsafe {
            let mut result: ffi::duckdb_result = std::mem::zeroed();
            let state = ffi::duckdb_query(self.con, c_sql.as_ptr(), &mut result);
            let out = if state == ffi::DuckDBSuccess {
                Ok(read(&mut result))
            } else {
                let e = ffi::duckdb_result_error(&mut result);
                Err(if e.is_null() {
                    "query failed".to_string()
                } else {
                    CStr::from_ptr(e).to_string_lossy().into_owned()
                })
            };
            ffi::duckdb_destroy_result(&mut result);
            out
        }
    }

    /// Make `frame` readable as the view [`ArrowScan::table`] until the returned scan is
    /// dropped. The view reads the frame's buffers in place (no copy) and can be read once.
    /// Call outside a transaction.
    pub fn scan<'a>(&'a self, name: &str, frame: &mut DataFrame) -> Result<ArrowScan<'a>, String> {
        let mut stream = Box::new(frame_stream(frame));
        let c_name = CString::new(name).map_err(|_| "view name contains NUL".to_string())?;
        self.execute(&format!("ATTACH IF NOT EXISTS ':memory:' AS {SCRATCH}"))?;
        self.execute(&format!("USE {SCRATCH}"))?;
        // SAFETY: the stream outlives the view: ArrowScan drops the view before releasing
        // the stream. duckdb_arrow_scan takes a pointer to a C ArrowArrayStream, which
        // polars-arrow's struct is (#[repr(C)], the Arrow C stream interface).
        let state = unsafe {
            ffi::duckdb_arrow_scan(
                self.con,
                c_name.as_ptr(),
                (&mut *stream as *mut ArrowArrayStream).cast(),
            )
        };
        let scan = ArrowScan {
            conn: self,
            table: format!("{SCRATCH}.main.\"{name}\""),
            _stream: stream,
        };
        self.execute(&format!("USE \"{}\"", self.main.replace('"', "\"\"")))?;
        if state != ffi::DuckDBSuccess {
            return Err(format!("DuckDB cannot scan the batch as {name}"));
        }
        Ok(scan)
    }
}

impl Drop for RawConnection {
    fn drop(&mut self) {
        // SAFETY: connected by duckdb_connect, disconnected once.
        unsafe { ffi::duckdb_disconnect(&mut self.con) };
    }
}

/// A frame visible to SQL as a view; dropping it drops the view, then frees the stream.
pub struct ArrowScan<'a> {
    conn: &'a RawConnection,
    /// The view's qualified name, for SQL.
    pub table: String,
    _stream: Box<ArrowArrayStream>,
}

impl Drop for ArrowScan<'_> {
    fn drop(&mut self) {
        // The view must not outlive the stream it points to.
        let _ = self
            .conn
            .execute(&format!("DROP VIEW IF EXISTS {}", self.table));
    }
}

/// The frame as an Arrow C stream of struct batches (ROWS_PER_BATCH rows each). Datetime
/// columns hold UTC instants and are tagged `UTC` so DuckDB reads them as TIMESTAMPTZ.
fn frame_stream(frame: &mut DataFrame) -> ArrowArrayStream {
    frame.rechunk_mut();
    let fields: Vec<Field> = frame
        .columns()
        .iter()
        .map(|c| utc_field(c.field().to_arrow(CompatLevel::newest())))
        .collect();
    let dtype = ArrowDataType::Struct(fields.clone());
    let columns: Vec<Box<dyn Array>> = match frame.iter_chunks(CompatLevel::newest(), false).next()
    {
        Some(batch) => {
            let (_, arrays) = batch.into_schema_and_arrays();
            arrays
                .into_iter()
                .zip(&fields)
                .map(|(a, f)| retag(a, &f.dtype))
                .collect()
        }
        None => fields
            .iter()
            .map(|f| polars_arrow::array::new_empty_array(f.dtype.clone()))
            .collect(),
    };
    let height = frame.height();
    let batches: Vec<Box<dyn Array>> = (0..height)
        .step_by(ROWS_PER_BATCH)
        .map(|start| {
            let len = ROWS_PER_BATCH.min(height - start);
            let sliced = columns.iter().map(|c| c.sliced(start, len)).collect();
            Box::new(StructArray::new(dtype.clone(), len, sliced, None)) as Box<dyn Array>
        })
        .collect();
    export_iterator(
        Box::new(batches.into_iter().map(Ok)),
        Field::new("".into(), dtype, false),
    )
}

fn utc_field(mut field: Field) -> Field {
    if let ArrowDataType::Timestamp(unit, None) = field.dtype {
        field.dtype = ArrowDataType::Timestamp(unit, Some("UTC".into()));
    }
    field
}

fn retag(array: Box<dyn Array>, dtype: &ArrowDataType) -> Box<dyn Array> {
    if array.dtype() == dtype {
        return array;
    }
    let ts = array
        .as_any()
        .downcast_ref::<PrimitiveArray<i64>>()
        .expect("only timestamps are retagged")
        .clone()
        .to(dtype.clone());
    Box::new(ts)
}
