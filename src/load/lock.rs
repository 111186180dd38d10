//! One writer per database. DuckDB's own lock error names a PID in a long message and can
//! surface mid-run; taking our own lock file first gives one clear line and a retry window.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};

#[derive(Debug)]
pub struct LockFile {
    _file: File,
}

impl LockFile {
    /// Take the exclusive lock on `<db>.lock`, waiting up to `wait` for another holder.
    pub fn acquire(db: &Path, wait: Duration) -> Result<LockFile> {
        let path = lock_path(db);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| {
                Error::new(
                    ErrorKind::CantCreate,
                    format!("cannot create lock file {}: {e}", path.display()),
                )
            })?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    let who = if holder.is_empty() {
                        "another process".to_string()
                    } else {
                        format!("another weblog ({holder})")
                    };
                    return Err(Error::new(
                        ErrorKind::TempFail,
                        format!(
                            "database {} is busy: {who} holds it; try again later or pass --wait SECONDS",
                            db.display()
                        ),
                    ));
                }
                Err(TryLockError::Error(e)) => {
                    return Err(Error::new(
                        ErrorKind::Io,
                        format!("cannot lock {}: {e}", path.display()),
                    ));
                }
            }
        }
        // Who holds it, for the message another process prints.
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = write!(file, "pid {}", std::process::id());
        let _ = file.flush();
        Ok(LockFile { _file: file })
    }
}

pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}
