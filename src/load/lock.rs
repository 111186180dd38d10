//! One writer per database. DuckDB's own lock error names a PID in a long message and can
//! surface mid-run; taking our own lock file first gives one clear line and a retry window.
//! The file names its holder while held and is emptied on release, and a named holder is
//! only believed while that process exists: a pid left by a killed run is never named.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};

#[derive(Debug)]
pub struct LockFile {
    file: File,
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
        // A wait too long to represent is a wait without end.
        let deadline = Instant::now().checked_add(wait);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if deadline.is_none_or(|d| Instant::now() < d) => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(TryLockError::WouldBlock) => {
                    let who = match holder(&mut file) {
                        Some(pid) => format!("another weblog (pid {pid})"),
                        None => "another process".to_string(),
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
        Ok(LockFile { file })
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        // Released: no longer name this process (the lock itself goes with the descriptor).
        let _ = self.file.set_len(0);
    }
}

/// The pid the lock file names, if that process is alive (a killed holder leaves its pid).
fn holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    let pid: u32 = text.trim().strip_prefix("pid ")?.parse().ok()?;
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}
