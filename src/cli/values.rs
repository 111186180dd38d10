//! Parsers for flag values (clap `value_parser`s): a bad value is a usage error, named with
//! its flag, before anything is opened. The same parsers check the config file's values,
//! which reach clap as flags.

use std::time::Duration;

/// The longest wait or interval accepted: a week (longer is surely a typo, and durations past
/// what the clock can add must never reach it).
const MAX_SECONDS: f64 = 7.0 * 86_400.0;

/// `5s`, `500ms`, `2m`, `1h`, or a plain number of seconds; more than zero, at most a week.
pub fn interval(s: &str) -> Result<Duration, String> {
    let d = duration(s)?;
    if d.is_zero() {
        return Err("the interval must be more than zero".into());
    }
    Ok(d)
}

/// Like [`interval`], zero allowed: how long to wait for the database.
pub fn wait(s: &str) -> Result<Duration, String> {
    duration(s)
}

fn duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad = || format!("{s:?} is not a duration like 30, 5s, 500ms, 2m or 1h");
    if number.is_empty() {
        return Err(bad());
    }
    let n: f64 = number.parse().map_err(|_| bad())?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86_400.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {s:?} (use ms, s, m, h or d)"
            ));
        }
    };
    if !secs.is_finite() || secs > MAX_SECONDS {
        return Err(format!("{s:?} is longer than a week"));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

/// How long something is kept; None: for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepFor(pub Option<Duration>);

/// How long something is kept: whole days (`30d`), weeks (`2w`) or hours (`12h`); `never`
/// (or `off`) keeps it for ever.
pub fn retention(s: &str) -> Result<KeepFor, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("never") || t.eq_ignore_ascii_case("off") {
        return Ok(KeepFor(None));
    }
    let bad = || format!("{s:?} is not a retention like 30d, 2w, 12h or never");
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = t.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let hours = match unit {
        "h" => n,
        "d" => n.checked_mul(24).ok_or_else(bad)?,
        "w" => n.checked_mul(24 * 7).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    // A century is surely a typo for `never`; beyond it, timestamps would overflow.
    if hours == 0 || hours > 100 * 366 * 24 {
        return Err(format!(
            "{s:?}: a retention is between 1h and 100 years, or never"
        ));
    }
    Ok(KeepFor(Some(Duration::from_secs(hours * 3600))))
}

/// A size such as `512MB`, `2GB`, `1.5GiB` or a plain number of bytes, in bytes.
pub fn bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad = || format!("{s:?} is not a size like 512MB, 2GB or 1048576");
    if number.is_empty() {
        return Err(bad());
    }
    let n: f64 = number.parse().map_err(|_| bad())?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    let total = n * scale;
    if !total.is_finite() || total >= u64::MAX as f64 {
        return Err(format!("{s:?} is too large"));
    }
    Ok(total as u64)
}

/// DuckDB's memory limit, at least 16 MB (less cannot run a query), as DuckDB spells it.
pub fn memory_limit(s: &str) -> Result<String, String> {
    let n = bytes(s)?;
    if n < 16_000_000 {
        return Err(format!("{s:?} is too small (at least 16MB)"));
    }
    Ok(format!("{}KB", n / 1000))
}

/// Bytes per batch: at least 64 KiB, at most 4 GiB.
pub fn batch_bytes(s: &str) -> Result<usize, String> {
    let n = bytes(s)?;
    if !(65_536..=1 << 32).contains(&n) {
        return Err(format!("{s:?} is out of range (64KiB to 4GiB)"));
    }
    Ok(n as usize)
}

/// Requests per second of log time: a positive, finite number.
pub fn rate(s: &str) -> Result<f64, String> {
    let r: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if !(r.is_finite() && r > 0.0 && r <= 1e6) {
        return Err(format!(
            "{s:?} is out of range (more than 0, at most 1000000)"
        ));
    }
    Ok(r)
}

/// An age in whole days, at least one: `30`, `30d` or `4w` (at most 100 years).
pub fn days(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let bad = || format!("{s:?} is not a number of days like 30, 30d or 4w");
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u32 = number.parse().map_err(|_| bad())?;
    let days = match unit {
        "" | "d" => Some(n),
        "w" => n.checked_mul(7),
        _ => return Err(bad()),
    }
    .ok_or_else(bad)?;
    if days == 0 || days > 100 * 366 {
        return Err(format!("{s:?}: between 1 day and 100 years"));
    }
    Ok(days)
}

/// A count that must be at least one.
pub fn positive(s: &str) -> Result<u64, String> {
    let n: u64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number"))?;
    if n == 0 {
        return Err("must be at least 1".into());
    }
    Ok(n)
}

/// A host name for the `host` column and the lake's partition paths: letters, digits and
/// `.-_`, at most 253 characters.
pub fn host(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
        && !s.starts_with('.');
    if !ok {
        return Err(format!(
            "{s:?} is not a host name (letters, digits, '.', '-', '_'; not starting with '.')"
        ));
    }
    Ok(s.to_string())
}

/// `--encoding`: `utf-8`, `auto`, or an encoding lines can be read in.
pub fn encoding(s: &str) -> Result<String, String> {
    crate::source::legacy_encoding(s.trim()).map_err(|e| e.message)?;
    Ok(s.trim().to_string())
}

/// `--format`: `auto`, or a format that compiles (a preset or a pasted format string).
pub fn log_format(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s != "auto" {
        crate::parse::Format::compile(s)?;
    }
    Ok(s.to_string())
}

/// This machine's host name, the default for `--host`.
pub fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| host(h).is_ok())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written_and_absurd_ones_are_refused() {
        assert_eq!(interval("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(interval("5"), Ok(Duration::from_secs(5)));
        assert_eq!(interval("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(interval("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(interval("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(wait("0"), Ok(Duration::ZERO));
        for bad in [
            "0s",
            "5 parsecs",
            "",
            "inf",
            "1e400",
            "NaN",
            "-1",
            "99999999999999999999s",
            "8d",
        ] {
            assert!(interval(bad).is_err(), "{bad}");
        }
        for bad in ["inf", "1e400", "-5", "s"] {
            assert!(wait(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_read_as_written_and_absurd_ones_are_refused() {
        assert_eq!(bytes("512MB"), Ok(512_000_000));
        assert_eq!(bytes("2 GiB"), Ok(2 << 30));
        assert_eq!(bytes("1048576"), Ok(1 << 20));
        assert_eq!(memory_limit("384MB"), Ok("384000KB".into()));
        for bad in [
            "lots",
            "",
            "MB",
            "1e400GB",
            "-1MB",
            "99999999999TB",
            "1..5GB",
        ] {
            assert!(bytes(bad).is_err(), "{bad}");
        }
        assert!(memory_limit("1KB").is_err());
        assert!(batch_bytes("1").is_err());
        assert_eq!(batch_bytes("64MiB"), Ok(64 << 20));
    }

    #[test]
    fn hosts_are_safe_path_parts() {
        assert!(host("web-1.example.com").is_ok());
        for bad in ["", "a/b", "..", ".hidden", "x y", "é"] {
            assert!(host(bad).is_err(), "{bad}");
        }
        assert!(host(&this_host()).is_ok());
    }
}
