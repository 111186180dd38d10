//! One error type for the whole pipeline, each kind mapped to a distinct exit code
//! (sysexits.h numbers, so cron wrappers and monitoring can tell them apart).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Anything not classified below.
    Failed,
    /// A bad flag value or config setting, found before anything was touched (as clap's).
    Usage,
    /// Database corrupt, unreadable or written by a newer weblog (EX_DATAERR).
    Data,
    /// A named log file is missing or unreadable (EX_NOINPUT).
    NoInput,
    /// Output folder or file cannot be created (EX_CANTCREAT).
    CantCreate,
    /// Read/write failure, e.g. disk full (EX_IOERR).
    Io,
    /// Another weblog holds the database; try again later (EX_TEMPFAIL).
    TempFail,
    /// A SQL output file failed (EX_SOFTWARE would mislead: the user's SQL is at fault).
    Sql,
}

impl ErrorKind {
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Failed => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Sql => 3,
            ErrorKind::Data => 65,
            ErrorKind::NoInput => 66,
            ErrorKind::CantCreate => 73,
            ErrorKind::Io => 74,
            ErrorKind::TempFail => 75,
        }
    }
}

#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Attach a kind and a human context to any lower-level error.
pub trait Context<T> {
    fn context(self, kind: ErrorKind, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, kind: ErrorKind, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::new(kind, format!("{}: {}", what(), one_line(&e.to_string()))))
    }
}

/// DuckDB and OS messages can span lines; the promise is one clear error line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
