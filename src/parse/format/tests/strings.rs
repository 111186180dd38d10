//! Pasted nginx `log_format` and Apache `LogFormat` strings.

use super::super::{Format, Parsed};
use super::{micros, reason, row, s};

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

const DOCKER_MAIN: &str =
    r#"172.17.0.1 - - [10/Jul/2022:13:34:59 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/7.81.0" "-""#;

#[test]
fn nginx_directive_pasted_from_nginx_conf() {
    // The `main` format of the official image's /etc/nginx/nginx.conf, as pasted.
    let spec = r#"log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';"#;
    let f = Format::compile(spec).unwrap();
    assert_eq!(f.name(), "nginx log_format");
    let l = row(spec, DOCKER_MAIN);
    assert_eq!(
        (l.status, l.body_bytes_sent, s(&l.http_user_agent)),
        (Some(200), Some(615), Some("curl/7.81.0"))
    );
    // The bare string and `${var}` spellings compile to the same reader.
    let bare = r#"${remote_addr} - ${remote_user} [${time_local}] "${request}" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for""#;
    assert_eq!(row(bare, DOCKER_MAIN), l);
}

#[test]
fn nginx_variables() {
    let spec = r#"$host:$server_port $remote_addr [$time_iso8601] $msec "$request_method $uri?$args $server_protocol" $status $bytes_sent $request_length $request_time "$upstream_response_time" $upstream_cache_status $ssl_protocol "$http_x_forwarded_for" $unknown_var "$http_cookie""#;
    let line = r#"shop.example:8443 2001:db8::1 [2026-03-01T10:00:00+01:00] 1772355600.250 "POST /cart?item=7 HTTP/2.0" 201 512 1024 0.120 "0.050, 0.060" HIT TLSv1.3 "198.51.100.9" whatever "a=1; b=2""#;
    let l = row(spec, line);
    assert_eq!(
        (s(&l.vhost), l.server_port),
        (Some("shop.example"), Some(8443))
    );
    assert_eq!(s(&l.remote_addr), Some("2001:db8::1"));
    // $time_iso8601 wins over $msec only because it has the written date; both say 09:00Z.
    assert_eq!(l.time.micros_utc, micros(2026, 3, 1, 9, 0, 0));
    assert_eq!(l.time.local_hour, 10);
    assert_eq!(
        (
            s(&l.request_method),
            s(&l.request_path),
            s(&l.request_protocol)
        ),
        (Some("POST"), Some("/cart?item=7"), Some("HTTP/2.0"))
    );
    assert_eq!(
        (l.status, l.body_bytes_sent, l.request_length),
        (Some(201), Some(512), Some(1024))
    );
    assert!(close(l.request_time, 0.12));
    assert!(close(l.upstream_response_time, 0.11));
    assert_eq!(
        (
            s(&l.cache_status),
            s(&l.ssl_protocol),
            s(&l.x_forwarded_for)
        ),
        (Some("HIT"), Some("TLSv1.3"), Some("198.51.100.9"))
    );
    // $uri?$args written side by side stays one borrowed slice of the line.
    assert!(matches!(
        l.request_path,
        Some(std::borrow::Cow::Borrowed(_))
    ));
    // $msec alone: the UTC instant, and the UTC date as the day.
    let l = row(
        r#"$msec "$request" $status"#,
        r#"1772355600.250 "GET / HTTP/1.1" 200"#,
    );
    assert_eq!(l.time.micros_utc, micros(2026, 3, 1, 9, 0, 0) + 250_000);
    assert_eq!(
        (l.time.local_day, l.time.local_hour),
        (super::days_from_civil(2026, 3, 1), 9)
    );
}

#[test]
fn nginx_escape_json() {
    let spec = r#"log_format json_combined escape=json '{"time":"$time_iso8601",'
        '"remote_addr":"$remote_addr","request":"$request","status":$status,'
        '"body_bytes_sent":$body_bytes_sent,"request_time":$request_time,'
        '"http_referrer":"$http_referer","http_user_agent":"$http_user_agent","upstream":{"time":"$upstream_response_time"}}';"#;
    let line = r#"{"time":"2026-03-01T10:00:00+01:00","remote_addr":"203.0.113.5","request":"GET /a?b=\"c\" HTTP/1.1","status":404,"body_bytes_sent":0,"request_time":0.003,"http_referrer":"","http_user_agent":"curl/8.5.0","upstream":{"time":"0.002"}}"#;
    let l = row(spec, line);
    assert_eq!(l.time.micros_utc, micros(2026, 3, 1, 9, 0, 0));
    assert_eq!(s(&l.remote_addr), Some("203.0.113.5"));
    assert_eq!(s(&l.request_path), Some(r#"/a?b="c""#));
    assert_eq!(
        (l.status, l.body_bytes_sent, l.http_referer.as_deref()),
        (Some(404), Some(0), None)
    );
    assert!(close(l.request_time, 0.003));
    assert!(close(l.upstream_response_time, 0.002));
    assert_eq!(s(&l.http_user_agent), Some("curl/8.5.0"));
    let why = reason(
        spec,
        br#"{"time":"2026-03-01T10:00:00+01:00","request":"GET / HTTP/1.1","status":"2x0"}"#,
    );
    assert_eq!(
        why,
        r#"nginx log_format: invalid $status "2x0" in key "status""#
    );
    assert!(reason(spec, b"not json").starts_with("nginx log_format: not JSON"));
}

#[test]
fn refused_formats_say_what_is_missing() {
    let no_time = Format::compile(r#"$remote_addr "$request" $status"#)
        .err()
        .unwrap();
    assert!(
        no_time.starts_with("nginx log_format: no time field"),
        "{no_time}"
    );
    let no_request = Format::compile("%h %t %>s").err().unwrap();
    assert!(
        no_request.starts_with("apache LogFormat: no request field"),
        "{no_request}"
    );
    let unknown = Format::compile("combinde").err().unwrap();
    assert!(
        unknown.starts_with("unknown log format \"combinde\""),
        "{unknown}"
    );
    assert!(Format::compile("log_format x escape=xml '$time_local $request';").is_err());
    assert!(Format::compile("%{%Q}t %r").err().unwrap().contains("%Q"));
    // Found by reading, for the fuzzer's specs: a '%' before a multi-byte character.
    assert!(Format::compile("%t %r %é").is_err());
    let t =
        Format::compile(r#"{"t":"$time_iso8601","r":"$request","x":"${é}","s":$status}"#).unwrap();
    let line = br#"{"t":"2026-03-01T10:00:00Z","r":"GET / HTTP/1.1","x":"1","s":200}"#;
    assert!(matches!(t.parser(None).parse(line), Parsed::Row(r) if r.status == Some(200)));
}

#[test]
fn apache_logformat_line() {
    // Apache's own httpd.conf `combined`, pasted with its config escapes.
    let spec =
        r#"LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined"#;
    assert_eq!(Format::compile(spec).unwrap().name(), "apache LogFormat");
    // log2timeline/plaso test_data/apache_access.log, line 7: `%b` writes `-` for 0 bytes.
    let l = row(
        spec,
        r#"120.202.255.147 - - [17/May/2015:16:05:39 +0000] "GET /files/logstash/logstash-1.1.0-monolithic.jar HTTP/1.1" 304 - "-" "Mozilla/5.0 Gecko/20100115 Firefox/3.6""#,
    );
    assert_eq!((l.status, l.body_bytes_sent), (Some(304), Some(0)));
    assert_eq!(
        s(&l.http_user_agent),
        Some("Mozilla/5.0 Gecko/20100115 Firefox/3.6")
    );
    assert_eq!(l.time.micros_utc, micros(2015, 5, 17, 16, 5, 39));
}

#[test]
fn apache_directives() {
    let spec = r#"%v:%{local}p %a %{c}a %u [%{%d/%b/%Y:%H:%M:%S}t.%{msec_frac}t %{%z}t] "%m %U%q %H" %>s %B %I %O %D %{ms}T "%{X-Forwarded-For}i" %{SSL_PROTOCOL}e "%400,501{User-Agent}i" %!200a 100%% %X"#;
    let line = r#"www.example.org:443 198.51.100.2 10.0.0.1 alice [05/Mar/2026:23:59:59.042 -0500] "GET /q.php?x=1 HTTP/1.1" 200 1234 456 1600 2500 3 "198.51.100.2, 10.0.0.1" TLSv1.2 "Mozilla/5.0 (X11)" - 100% +"#;
    let l = row(spec, line);
    assert_eq!(
        (s(&l.vhost), l.server_port),
        (Some("www.example.org"), Some(443))
    );
    // %{c}a (the peer) comes last, so it is the address stored.
    assert_eq!(s(&l.remote_addr), Some("10.0.0.1"));
    assert_eq!(s(&l.remote_user), Some("alice"));
    assert_eq!(l.time.micros_utc, micros(2026, 3, 6, 4, 59, 59) + 42_000);
    assert_eq!(
        (l.time.local_day, l.time.local_hour),
        (super::days_from_civil(2026, 3, 5), 23)
    );
    assert_eq!(
        (
            s(&l.request_method),
            s(&l.request_path),
            s(&l.request_protocol)
        ),
        (Some("GET"), Some("/q.php?x=1"), Some("HTTP/1.1"))
    );
    // %B is the body; %O (headers included) only counts when there is no %b/%B.
    assert_eq!(
        (l.status, l.body_bytes_sent, l.request_length),
        (Some(200), Some(1234), Some(456))
    );
    // %D (µs) then %{ms}T: the last one written wins.
    assert!(close(l.request_time, 0.003));
    assert_eq!(
        (s(&l.x_forwarded_for), s(&l.ssl_protocol)),
        (Some("198.51.100.2, 10.0.0.1"), Some("TLSv1.2"))
    );
    assert_eq!(s(&l.http_user_agent), Some("Mozilla/5.0 (X11)"));
    // %U%q side by side stays borrowed.
    assert!(matches!(
        l.request_path,
        Some(std::borrow::Cow::Borrowed(_))
    ));
    // Seconds since the epoch, and a strftime time without a zone (read as UTC).
    let l = row(
        r#"%{sec}t "%r" %s %T"#,
        r#"1772355600 "GET / HTTP/1.0" 200 2"#,
    );
    assert_eq!(l.time.micros_utc, micros(2026, 3, 1, 9, 0, 0));
    assert!(close(l.request_time, 2.0));
    let l = row(
        r#"%{%Y-%m-%d %H:%M:%S}t %r %s"#,
        r#"2026-03-01 09:00:00.5 GET /x HTTP/1.1 200"#,
    );
    assert_eq!(l.time.micros_utc, micros(2026, 3, 1, 9, 0, 0) + 500_000);
    assert_eq!(s(&l.request_path), Some("/x"));
}

#[test]
fn a_reject_names_the_field_that_was_expected() {
    // The lead's tests/formats.rs case: a combined line under a format with more fields.
    let spec = r#"log_format timed '$remote_addr - $remote_user [$time_local] "$request" '
                     '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
                     '$request_time $upstream_response_time $host';"#;
    let line =
        br#"203.0.113.3 - - [03/Nov/2026:10:00:02 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8""#;
    assert_eq!(
        reason(spec, line),
        format!(
            "nginx log_format: expected '\" ' before $request_time at byte {}",
            line.len() - 1
        )
    );
}

#[test]
fn unknown_fields_are_consumed_not_stored() {
    let spec = r#"$remote_addr $connection [$time_local] "$request" $status $pipe"#;
    let l = row(
        spec,
        r#"1.2.3.4 12345 [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 p"#,
    );
    assert_eq!((s(&l.remote_addr), l.status), (Some("1.2.3.4"), Some(200)));
    // Still one token each: a space inside an unknown field is not swallowed.
    let Parsed::Reject(r) = Format::compile(spec)
        .unwrap()
        .parser(None)
        .parse(br#"1.2.3.4 12 345 [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 p"#)
    else {
        panic!()
    };
    assert_eq!(
        r.reason(),
        "nginx log_format: expected ' [' before $time_local at byte 10"
    );
}

#[test]
fn nginx_directive_with_comments_as_nginx_reads_it() {
    // Accepted by `nginx -t`: comments between and after the pieces, and after the name.
    let spec = "log_format  main  # the usual one, plus the forwarded-for\n\
                '$remote_addr - $remote_user [$time_local] \"$request\" ' # who, when, what\n\
                '$status $body_bytes_sent \"$http_referer\" '\n\
                # '$request_time '  (switched off)\n\
                '\"$http_user_agent\" \"$http_x_forwarded_for\"'; # end\n";
    let l = row(spec, DOCKER_MAIN);
    assert_eq!(
        (l.status, l.body_bytes_sent, s(&l.http_user_agent)),
        (Some(200), Some(615), Some("curl/7.81.0"))
    );
    // A `#` inside quotes is part of the format.
    let hash = "log_format h '$remote_addr #$status# [$time_local] \"$request\"'; # note";
    let l = row(
        hash,
        r#"10.0.0.1 #404# [10/Jul/2022:13:34:59 +0000] "GET /x HTTP/1.1""#,
    );
    assert_eq!(l.status, Some(404));
    let json = "log_format j escape=json # JSON for the shipper\n\
                '{\"t\":\"$time_iso8601\",' # time\n\
                '\"r\":\"$request\",\"s\":$status}';";
    let l = row(
        json,
        r#"{"t":"2026-03-01T10:00:00+01:00","r":"GET / HTTP/1.1","s":200}"#,
    );
    assert_eq!((l.status, s(&l.request_path)), (Some(200), Some("/")));
}

#[test]
fn a_remote_user_holding_spaces_and_brackets_is_stored_as_logged() {
    // nginx logs $remote_user from any `Authorization: Basic` header, configured or not.
    for (user, line) in [
        (
            "x] [03/Dec",
            r#"203.0.113.7 - x] [03/Dec [03/Dec/2026:06:00:00 +0000] "GET / HTTP/1.1" 401 5 "-" "curl/8""#,
        ),
        (
            "a b [c",
            r#"203.0.113.7 - a b [c [03/Dec/2026:06:00:00 +0000] "GET / HTTP/1.1" 401 5 "-" "curl/8""#,
        ),
    ] {
        for format in ["combined", super::super::presets::COMBINED] {
            let l = row(format, line);
            assert_eq!(s(&l.remote_user), Some(user), "{format}");
            assert_eq!(l.time.micros_utc, micros(2026, 12, 3, 6, 0, 0));
            assert_eq!((l.status, s(&l.request_path)), (Some(401), Some("/")));
        }
    }
}
