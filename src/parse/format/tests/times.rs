//! Times at the edges of what can be stored, and numbers that do not fit.

use super::super::days_from_civil;
use super::super::time::{MAX_MICROS, MIN_MICROS};
use super::{micros, owned, reason, row};

fn clf(time: &str) -> String {
    format!(r#"1.2.3.4 - - [{time}] "GET / HTTP/1.1" 200 5 "-" "-""#)
}

#[test]
fn first_and_last_storable_instants() {
    // Year 1 at -1400 is 14:00 UTC that day; at +1400 it would be the year 0.
    let l = owned("combined", &clf("01/Jan/0001:00:00:00 -1400"));
    assert_eq!(l.time.micros_utc, MIN_MICROS + 14 * 3_600_000_000);
    assert_eq!(
        (l.time.local_day, l.time.local_hour),
        (days_from_civil(1, 1, 1), 0)
    );
    assert_eq!(
        reason("combined", clf("01/Jan/0001:00:00:00 +1400").as_bytes()),
        "combined: time outside the years 1 to 9999"
    );
    let l = owned("combined", &clf("01/Jan/0001:14:00:00 +1400"));
    assert_eq!(l.time.micros_utc, MIN_MICROS);
    // The year 9999's last second at +1400 is storable, at -1400 it is the year 10000.
    let l = owned("combined", &clf("31/Dec/9999:23:59:59 +1400"));
    assert_eq!(l.time.micros_utc, micros(9999, 12, 31, 9, 59, 59));
    assert_eq!(
        (l.time.local_day, l.time.local_hour),
        (days_from_civil(9999, 12, 31), 23)
    );
    assert_eq!(
        reason("combined", clf("31/Dec/9999:23:59:59 -1400").as_bytes()),
        "combined: time outside the years 1 to 9999"
    );
    let l = row(
        r#"[$time_iso8601] "$request""#,
        r#"[9999-12-31T23:59:59.999999Z] "GET / HTTP/1.1""#,
    );
    assert_eq!(l.time.micros_utc, MAX_MICROS);
    assert_eq!(MIN_MICROS, micros(1, 1, 1, 0, 0, 0));
    assert_eq!(MAX_MICROS, micros(9999, 12, 31, 23, 59, 59) + 999_999);
    assert!(
        reason("combined", clf("01/Jan/0000:00:00:00 +0000").as_bytes())
            .starts_with("combined: invalid $time_local")
    );
}

#[test]
fn offsets_dates_and_seconds() {
    for bad in [
        "10/Oct/2000:13:55:36 +9999",
        "10/Oct/2000:13:55:36 +2400",
        "10/Oct/2000:13:55:36 +0060",
        "30/Feb/2024:00:00:00 +0000",
        "29/Feb/2023:00:00:00 +0000",
        "10/Oct/2000:24:00:00 +0000",
        "10/Oct/2000:13:60:00 +0000",
        "10/Oct/2000:13:55:61 +0000",
    ] {
        assert_eq!(
            reason("combined", clf(bad).as_bytes()),
            format!("combined: invalid $time_local \"{bad}\" at byte 13"),
        );
    }
    // A leap second is kept: it reads as the next minute's first second.
    let l = owned("combined", &clf("31/Dec/2016:23:59:60 +0000"));
    assert_eq!(l.time.micros_utc, micros(2017, 1, 1, 0, 0, 0));
    assert_eq!(
        (l.time.local_day, l.time.local_hour),
        (days_from_civil(2016, 12, 31), 23)
    );
}

#[test]
fn fractional_seconds_are_kept_to_the_microsecond() {
    let l = owned("combined", &clf("10/Oct/2000:13:55:36.123 -0700"));
    assert_eq!(
        l.time.micros_utc,
        micros(2000, 10, 10, 20, 55, 36) + 123_000
    );
    let l = row(
        r#"$time_iso8601 "$request""#,
        r#"2000-10-10T13:55:36.123456789+02:00 "GET / HTTP/1.1""#,
    );
    assert_eq!(
        l.time.micros_utc,
        micros(2000, 10, 10, 11, 55, 36) + 123_456
    );
    let l = row(r#"$msec "$request""#, r#"971186136.5 "GET / HTTP/1.1""#);
    assert_eq!(
        l.time.micros_utc,
        micros(2000, 10, 10, 13, 55, 36) + 500_000
    );
    // An epoch past the year 9999.
    assert_eq!(
        reason(r#"$msec "$request""#, br#"999999999999 "GET / HTTP/1.1""#),
        "nginx log_format: time outside the years 1 to 9999"
    );
}

#[test]
fn counts_past_i64_and_statuses_not_three_digits() {
    let line = |status: &str, bytes: &str| {
        format!(
            r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" {status} {bytes} "-" "-""#
        )
    };
    assert_eq!(
        owned("combined", &line("200", "9223372036854775807")).body_bytes_sent,
        Some(i64::MAX)
    );
    assert_eq!(
        owned("combined", &line("200", "0009223372036854775807")).body_bytes_sent,
        Some(i64::MAX)
    );
    assert_eq!(
        reason("combined", line("200", "9223372036854775808").as_bytes()),
        "combined: $body_bytes_sent \"9223372036854775808\" at byte 62 out of range"
    );
    assert_eq!(
        reason(
            "combined",
            line("200", "99999999999999999999999").as_bytes()
        ),
        "combined: $body_bytes_sent \"99999999999999999999999\" at byte 62 out of range"
    );
    assert_eq!(
        reason("combined", line("200", "-5").as_bytes()),
        "combined: invalid $body_bytes_sent \"-5\" at byte 62"
    );
    for bad in ["2x0", "20", "2000", "+20", "OK"] {
        assert_eq!(
            reason("combined", line(bad, "5").as_bytes()),
            format!("combined: invalid $status \"{bad}\" at byte 58")
        );
    }
    assert_eq!(owned("combined", &line("-", "5")).status, None);
    assert!(
        reason(
            r#"$time_local "$request" $server_port"#,
            br#"10/Oct/2000:13:55:36 -0700 "GET / HTTP/1.1" 65536"#
        )
        .ends_with("out of range")
    );
    assert!(
        reason(
            r#"$time_local "$request" $request_time"#,
            br#"10/Oct/2000:13:55:36 -0700 "GET / HTTP/1.1" -1"#
        )
        .contains("invalid $request_time")
    );
}
