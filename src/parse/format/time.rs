//! Times as servers write them: CLF `10/Oct/2000:13:55:36 -0700`, ISO 8601, epoch seconds,
//! W3C's separate date and time columns and Apache `%{strftime}t`. A line's time may come from
//! several fields (`%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t`), so fields fill [`TimeParts`] and
//! [`TimeParts::resolve`] turns the parts into a [`LogTime`] once the whole line has matched.

use super::LogTime;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: what the warehouse can store.
pub(super) const MIN_MICROS: i64 = -62_135_596_800_000_000;
pub(super) const MAX_MICROS: i64 = 253_402_300_799_999_999;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct TimeParts {
    pub date: Option<(i32, u8, u8)>,
    pub hms: Option<(u8, u8, u8)>,
    pub frac_us: Option<u32>,
    pub offset_s: Option<i32>,
    pub epoch_us: Option<i64>,
    /// `%p` of a 12-hour clock: Some(true) for PM.
    pub pm: Option<bool>,
}

pub(super) enum TimeError {
    Missing,
    OutOfRange,
}

impl TimeParts {
    pub fn resolve(&self) -> Result<LogTime, TimeError> {
        if let (Some((y, mo, d)), Some((h, mi, s))) = (self.date, self.hms) {
            let h = match self.pm {
                Some(pm) if (1..=12).contains(&h) => h % 12 + if pm { 12 } else { 0 },
                Some(_) => return Err(TimeError::OutOfRange),
                None => h,
            };
            if !(1..=9999).contains(&y) {
                return Err(TimeError::OutOfRange);
            }
            let local_day = days_from_civil(y, mo as i32, d as i32);
            let secs = local_day as i64 * 86_400 + h as i64 * 3600 + mi as i64 * 60 + s as i64;
            let offset = self.offset_s.unwrap_or(0) as i64;
            let micros = (secs - offset) * 1_000_000 + self.frac_us.unwrap_or(0) as i64;
            if !(MIN_MICROS..=MAX_MICROS).contains(&micros) {
                return Err(TimeError::OutOfRange);
            }
            return Ok(LogTime {
                micros_utc: micros,
                local_day,
                local_hour: h,
            });
        }
        let Some(mut micros) = self.epoch_us else {
            return Err(TimeError::Missing);
        };
        // `%{sec}t.%{msec_frac}t`: whole seconds plus a separately written fraction.
        if let Some(f) = self.frac_us
            && micros % 1_000_000 == 0
        {
            micros += f as i64;
        }
        if !(MIN_MICROS..=MAX_MICROS).contains(&micros) {
            return Err(TimeError::OutOfRange);
        }
        let local = micros + self.offset_s.unwrap_or(0) as i64 * 1_000_000;
        let (y, _, _) = civil_from_days(local.div_euclid(MICROS_PER_DAY) as i32);
        if !(1..=9999).contains(&y) {
            return Err(TimeError::OutOfRange);
        }
        Ok(LogTime {
            micros_utc: micros,
            local_day: local.div_euclid(MICROS_PER_DAY) as i32,
            local_hour: (local.rem_euclid(MICROS_PER_DAY) / 3_600_000_000) as u8,
        })
    }
}

/// `10/Oct/2000:13:55:36 -0700` (nginx `$time_local`, Apache `%t` without its brackets),
/// optionally with a fraction after the seconds.
pub(super) fn parse_clf(t: &[u8], tp: &mut TimeParts) -> bool {
    if t.len() < 26 || t[2] != b'/' || t[6] != b'/' || t[11] != b':' || t[14] != b':' {
        return false;
    }
    if t[17] != b':' {
        return false;
    }
    let (Some(day), Some(month), Some(year)) =
        (num2(&t[0..2]), month_abbr(&t[3..6]), num4(&t[7..11]))
    else {
        return false;
    };
    let Some(hms) = hms(&t[12..20]) else {
        return false;
    };
    let mut i = 20;
    let frac = if t[i] == b'.' {
        let Some((f, n)) = fraction(&t[i + 1..]) else {
            return false;
        };
        i += 1 + n;
        Some(f)
    } else {
        None
    };
    if t.len() != i + 6 || t[i] != b' ' {
        return false;
    }
    let Some(offset) = offset_hhmm(&t[i + 1..]) else {
        return false;
    };
    if !valid_date(year, month, day) {
        return false;
    }
    tp.date = Some((year, month, day));
    tp.hms = Some(hms);
    tp.frac_us = frac;
    tp.offset_s = Some(offset);
    true
}

/// `06/Feb/2009:12:14:14.655` or `09/Aug/2004:20:26:09` (HAProxy's accept date): CLF without a
/// zone. The time is the writer's local time; no offset is set, so it resolves as UTC with the
/// day and hour as written (as W3C `date-local`/`time-local`).
pub(super) fn parse_clf_local(t: &[u8], tp: &mut TimeParts) -> bool {
    if t.len() < 20 || t[2] != b'/' || t[6] != b'/' || t[11] != b':' {
        return false;
    }
    let (Some(day), Some(month), Some(year), Some(hms)) = (
        num2(&t[0..2]),
        month_abbr(&t[3..6]),
        num4(&t[7..11]),
        hms(&t[12..20]),
    ) else {
        return false;
    };
    let frac = match &t[20..] {
        [] => None,
        [b'.', rest @ ..] => match fraction(rest) {
            Some((f, n)) if n == rest.len() => Some(f),
            _ => return false,
        },
        _ => return false,
    };
    if !valid_date(year, month, day) {
        return false;
    }
    tp.date = Some((year, month, day));
    tp.hms = Some(hms);
    tp.frac_us = frac;
    true
}

/// ISO 8601 as nginx `$time_iso8601`, ALB, Caddy and JSON loggers write it:
/// `2000-10-10T13:55:36[.123456](Z|+03:00|+0300)?` (a space instead of `T` is accepted).
pub(super) fn parse_iso(t: &[u8], tp: &mut TimeParts) -> bool {
    if t.len() < 19 || !matches!(t[10], b'T' | b't' | b' ') {
        return false;
    }
    let Some(date) = parse_date(&t[..10]) else {
        return false;
    };
    let Some(hms) = hms(&t[11..19]) else {
        return false;
    };
    let mut i = 19;
    let mut frac = None;
    if t.get(i).is_some_and(|&c| c == b'.' || c == b',') {
        let Some((f, n)) = fraction(&t[i + 1..]) else {
            return false;
        };
        frac = Some(f);
        i += 1 + n;
    }
    let offset = match &t[i..] {
        [] => None,
        [b'Z' | b'z'] => Some(0),
        [sign, h1, h2, b':', m1, m2] | [sign, h1, h2, m1, m2] => {
            match offset_hhmm(&[*sign, *h1, *h2, *m1, *m2]) {
                Some(o) => Some(o),
                None => return false,
            }
        }
        _ => return false,
    };
    tp.date = Some(date);
    tp.hms = Some(hms);
    tp.frac_us = frac;
    tp.offset_s = Some(offset.unwrap_or(0));
    true
}

/// `2002-05-24`.
pub(super) fn parse_date(t: &[u8]) -> Option<(i32, u8, u8)> {
    if t.len() != 10 || t[4] != b'-' || t[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num4(&t[0..4])?, num2(&t[5..7])?, num2(&t[8..10])?);
    valid_date(y, m, d).then_some((y, m, d))
}

/// `20:18:01` or `20:18:01.123`: the time of day and the fraction in µs.
pub(super) fn parse_time_of_day(t: &[u8]) -> Option<((u8, u8, u8), Option<u32>)> {
    if t.len() < 8 {
        return None;
    }
    let h = hms(&t[..8])?;
    match &t[8..] {
        [] => Some((h, None)),
        [b'.', rest @ ..] => {
            let (f, n) = fraction(rest)?;
            (n == rest.len()).then_some((h, Some(f)))
        }
        _ => None,
    }
}

/// Epoch time with an optional fraction, in units of `unit_us` µs (1_000_000 for seconds,
/// as `$msec` and Caddy's `ts`; 1000 for Apache `%{msec}t`; 1 for `%{usec}t`).
pub(super) fn parse_epoch(t: &[u8], unit_us: i64) -> Option<i64> {
    let (int, frac) = match memchr::memchr(b'.', t) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    // 19 digits always fit an i64; the range check comes after scaling.
    if int.is_empty() || int.len() > 18 || !int.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let whole: i64 = int.iter().fold(0, |a, &c| a * 10 + (c - b'0') as i64);
    let mut micros = whole.checked_mul(unit_us)?;
    if let Some(frac) = frac {
        let (f, n) = fraction(frac)?;
        if n != frac.len() {
            return None;
        }
        micros = micros.checked_add(f as i64 * unit_us / 1_000_000)?;
    }
    Some(micros)
}

#[inline]
fn hms(t: &[u8]) -> Option<(u8, u8, u8)> {
    if t.len() != 8 || t[2] != b':' || t[5] != b':' {
        return None;
    }
    let (h, m, s) = (num2(&t[0..2])?, num2(&t[3..5])?, num2(&t[6..8])?);
    // Second 60 is a leap second; it is kept (it rolls into the next minute).
    (h <= 23 && m <= 59 && s <= 60).then_some((h, m, s))
}

/// Digits after the decimal point: (µs, digits consumed); digits past the 6th are dropped.
#[inline]
fn fraction(t: &[u8]) -> Option<(u32, usize)> {
    let n = t.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let mut us = 0u32;
    for i in 0..6 {
        us = us * 10 + t.get(i).filter(|_| i < n).map_or(0, |&c| (c - b'0') as u32);
    }
    Some((us, n))
}

/// `+hhmm` / `-hhmm`, at most ±23:59.
#[inline]
pub(super) fn offset_hhmm(t: &[u8]) -> Option<i32> {
    if t.len() != 5 {
        return None;
    }
    let sign = match t[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = (num2(&t[1..3])?, num2(&t[3..5])?);
    (h <= 23 && m <= 59).then_some(sign * (h as i32 * 3600 + m as i32 * 60))
}

#[inline]
fn num2(d: &[u8]) -> Option<u8> {
    match d {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

#[inline]
fn num4(d: &[u8]) -> Option<i32> {
    if d.len() != 4 || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(d.iter().fold(0, |a, &c| a * 10 + (c - b'0') as i32))
}

#[inline]
pub(super) fn month_abbr(m: &[u8]) -> Option<u8> {
    const NAMES: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let m = [m.first()? | 0x20, m.get(1)? | 0x20, m.get(2)? | 0x20];
    NAMES.iter().position(|n| **n == m).map(|i| i as u8 + 1)
}

#[inline]
pub(super) fn valid_date(year: i32, month: u8, day: u8) -> bool {
    (1..=9999).contains(&year)
        && (1..=12).contains(&month)
        && day >= 1
        && day as i32 <= days_in_month(year, month as i32)
}

#[inline]
fn days_in_month(year: i32, month: i32) -> i32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
#[inline]
pub fn days_from_civil(year: i32, month: i32, day: i32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
pub fn civil_from_days(z: i32) -> (i32, u8, u8) {
    let z = z as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y as i32, m, d)
}

/// One piece of a compiled Apache `%{…}t` strftime pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Strf {
    Lit(u8),
    /// Any run of spaces (strftime `%n`/`%t`, and `%e`'s padding).
    Space,
    Year4,
    Year2,
    Month,
    MonthName,
    /// Day or month name, not stored (`%a`, `%A`).
    DayName,
    Day,
    /// `%e`: space-padded day.
    DaySpace,
    Hour,
    Hour12,
    Minute,
    Second,
    AmPm,
    /// `%z`: `+hhmm`.
    Zone,
    /// `%Z`: only `UTC`, `GMT` and `Z` can be resolved.
    ZoneName,
    Epoch,
    DayOfYear,
}

/// Compile a strftime pattern; Err names the first conversion we cannot read back.
pub(super) fn compile_strftime(p: &str) -> Result<Vec<Strf>, String> {
    let mut out = Vec::new();
    let mut chars = p.bytes();
    while let Some(c) = chars.next() {
        if c != b'%' {
            out.push(if c == b' ' { Strf::Space } else { Strf::Lit(c) });
            continue;
        }
        let Some(d) = chars.next() else {
            return Err(format!("strftime pattern {p:?} ends with '%'"));
        };
        use Strf::*;
        let items: &[Strf] = match d {
            b'Y' => &[Year4],
            b'y' => &[Year2],
            b'm' => &[Month],
            b'b' | b'h' | b'B' => &[MonthName],
            b'a' | b'A' => &[DayName],
            b'd' => &[Day],
            b'e' => &[DaySpace],
            b'H' | b'k' => &[Hour],
            b'I' | b'l' => &[Hour12],
            b'M' => &[Minute],
            b'S' => &[Second],
            b'p' | b'P' => &[AmPm],
            b'z' => &[Zone],
            b'Z' => &[ZoneName],
            b's' => &[Epoch],
            b'j' => &[DayOfYear],
            b'T' => &[Hour, Lit(b':'), Minute, Lit(b':'), Second],
            b'R' => &[Hour, Lit(b':'), Minute],
            b'D' => &[Month, Lit(b'/'), Day, Lit(b'/'), Year2],
            b'F' => &[Year4, Lit(b'-'), Month, Lit(b'-'), Day],
            b'n' | b't' => &[Space],
            b'%' => &[Lit(b'%')],
            other => {
                return Err(format!(
                    "strftime conversion %{} in {p:?} cannot be read back",
                    other as char
                ));
            }
        };
        out.extend_from_slice(items);
    }
    Ok(out)
}

/// Read `t` (the whole field) with a compiled pattern. `frac_ok`: seconds may carry `.123`.
pub(super) fn parse_strftime(items: &[Strf], t: &[u8], frac_ok: bool, tp: &mut TimeParts) -> bool {
    let mut i = 0;
    let (mut y, mut mo, mut d, mut yday) = (None, None, None, None);
    let (mut h, mut mi, mut s) = (None, None, None);
    let num = |i: &mut usize, max_digits: usize| -> Option<u32> {
        let n = t[*i..]
            .iter()
            .take(max_digits)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n == 0 {
            return None;
        }
        let v = t[*i..*i + n]
            .iter()
            .fold(0u32, |a, &c| a * 10 + (c - b'0') as u32);
        *i += n;
        Some(v)
    };
    for item in items {
        let ok = match item {
            Strf::Lit(c) => {
                let ok = t.get(i) == Some(c);
                i += 1;
                ok
            }
            Strf::Space => {
                let n = t[i..].iter().take_while(|&&c| c == b' ').count();
                i += n;
                n > 0
            }
            Strf::Year4 => num(&mut i, 4).map(|v| y = Some(v as i32)).is_some(),
            Strf::Year2 => num(&mut i, 2)
                .map(|v| y = Some(if v < 69 { 2000 + v } else { 1900 + v } as i32))
                .is_some(),
            Strf::Month => num(&mut i, 2).map(|v| mo = Some(v)).is_some(),
            Strf::MonthName => {
                let n = t[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
                let m = month_abbr(&t[i..i + n]);
                i += n;
                m.map(|m| mo = Some(m as u32)).is_some() && n >= 3
            }
            Strf::DayName => {
                let n = t[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
                i += n;
                n >= 3
            }
            Strf::Day => num(&mut i, 2).map(|v| d = Some(v)).is_some(),
            Strf::DaySpace => {
                i += t[i..].iter().take_while(|&&c| c == b' ').count();
                num(&mut i, 2).map(|v| d = Some(v)).is_some()
            }
            Strf::Hour => {
                i += t[i..].iter().take_while(|&&c| c == b' ').count();
                num(&mut i, 2).map(|v| h = Some(v)).is_some()
            }
            Strf::Hour12 => {
                i += t[i..].iter().take_while(|&&c| c == b' ').count();
                num(&mut i, 2).map(|v| h = Some(v)).is_some()
            }
            Strf::Minute => num(&mut i, 2).map(|v| mi = Some(v)).is_some(),
            Strf::Second => {
                let ok = num(&mut i, 2).map(|v| s = Some(v)).is_some();
                if ok && frac_ok && t.get(i) == Some(&b'.') {
                    match fraction(&t[i + 1..]) {
                        Some((f, n)) => {
                            tp.frac_us = Some(f);
                            i += 1 + n;
                        }
                        None => return false,
                    }
                }
                ok
            }
            Strf::AmPm => match t.get(i..i + 2).map(|p| [p[0] | 0x20, p[1] | 0x20]) {
                Some([b'a', b'm']) => {
                    tp.pm = Some(false);
                    i += 2;
                    true
                }
                Some([b'p', b'm']) => {
                    tp.pm = Some(true);
                    i += 2;
                    true
                }
                _ => false,
            },
            Strf::Zone => match t.get(i..i + 5).and_then(offset_hhmm) {
                Some(o) => {
                    tp.offset_s = Some(o);
                    i += 5;
                    true
                }
                None => false,
            },
            Strf::ZoneName => {
                let n = t[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
                let ok = matches!(&t[i..i + n], b"UTC" | b"GMT" | b"Z");
                i += n;
                tp.offset_s = Some(0);
                ok
            }
            Strf::Epoch => {
                let n = t[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                let v = parse_epoch(&t[i..i + n], 1_000_000);
                i += n;
                v.map(|v| tp.epoch_us = Some(v)).is_some()
            }
            Strf::DayOfYear => num(&mut i, 3).map(|v| yday = Some(v)).is_some(),
        };
        if !ok || i > t.len() {
            return false;
        }
    }
    if i != t.len() {
        return false;
    }
    if let (Some(y), None, None, Some(yd)) = (y, mo, d, yday) {
        let jan1 = days_from_civil(y, 1, 1);
        let (yy, m, dd) = civil_from_days(jan1 + yd as i32 - 1);
        if yy != y || yd == 0 {
            return false;
        }
        (mo, d) = (Some(m as u32), Some(dd as u32));
    }
    if let (Some(y), Some(mo), Some(d)) = (y, mo, d) {
        if mo > 12 || d > 31 || !valid_date(y, mo as u8, d as u8) {
            return false;
        }
        tp.date = Some((y, mo as u8, d as u8));
    }
    if let Some(h) = h {
        let (mi, s) = (mi.unwrap_or(0), s.unwrap_or(0));
        if h > 23 || mi > 59 || s > 60 {
            return false;
        }
        tp.hms = Some((h as u8, mi as u8, s as u8));
    }
    true
}
