//! Real lines for every preset (sources in the comments), every field checked by hand.

use super::super::{Format, Parsed};
use super::{micros, owned, parse, reason, row, s};

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn vhost_combined() {
    // log2timeline/plaso test_data/apache_access.log, line 9 (Debian's vhost_combined).
    let line = r#"plaso.log2timeline.net:443 10.1.1.2 - - [13/Jan/2018:19:31:17 +0000] "GET /wp-content/themes/darkmode/evil.php HTTP/1.1" 200 1063 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_8_2) AppleWebKit/537.11 (KHTML, like Gecko) Chrome/23.0.1271.6 Safari/537.11""#;
    let l = row("vhost_combined", line);
    assert_eq!(s(&l.vhost), Some("plaso.log2timeline.net"));
    assert_eq!(l.server_port, Some(443));
    assert_eq!(s(&l.remote_addr), Some("10.1.1.2"));
    assert_eq!(l.remote_user, None);
    assert_eq!(l.time.micros_utc, micros(2018, 1, 13, 19, 31, 17));
    assert_eq!(s(&l.request_method), Some("GET"));
    assert_eq!(
        s(&l.request_path),
        Some("/wp-content/themes/darkmode/evil.php")
    );
    assert_eq!(s(&l.request_protocol), Some("HTTP/1.1"));
    assert_eq!(l.status, Some(200));
    assert_eq!(l.body_bytes_sent, Some(1063));
    assert_eq!(l.http_referer, None);
    assert_eq!(
        s(&l.http_user_agent),
        Some(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_8_2) AppleWebKit/537.11 (KHTML, like Gecko) Chrome/23.0.1271.6 Safari/537.11"
        )
    );
    // The same line with the hostname the brief quotes.
    let renamed = line.replace("plaso.log2timeline.net", "plaso.example.net");
    let l = row("vhost_combined", &renamed);
    assert_eq!(
        (s(&l.vhost), l.server_port),
        (Some("plaso.example.net"), Some(443))
    );
    // A combined line is no vhost_combined line, and the reverse.
    assert!(matches!(
        parse("vhost_combined", &line.as_bytes()[27..]),
        Parsed::Reject(_)
    ));
    assert!(
        reason("combined", line.as_bytes())
            .starts_with("combined: expected ' - ' before $remote_user at byte 26")
    );
}

#[test]
fn combined_probes_with_unescaped_quotes() {
    // log2timeline/plaso test_data/apache_access.log, lines 13-15 (common lines: no referer, agent).
    let l = row(
        "combined",
        r#"1.2.3.4 - - [25/Apr/2021:06:15:33 +0000] "GET /aaaa.xxxx/SomeText?action=edit&template=<script>alert("text")</script> HTTP/1.0" 404 1164"#,
    );
    assert_eq!(
        s(&l.request_path),
        Some(r#"/aaaa.xxxx/SomeText?action=edit&template=<script>alert("text")</script>"#)
    );
    assert_eq!(s(&l.request_protocol), Some("HTTP/1.0"));
    assert_eq!((l.status, l.body_bytes_sent), (Some(404), Some(1164)));
    let l = row(
        "common",
        r#"1.2.3.4 - - [25/Apr/2021:06:15:33 +0000] "GET /$%7B("TextString"+"123456")%7D/actionChain1.action HTTP/1.0" 404 1164"#,
    );
    assert_eq!(
        s(&l.request_path),
        Some(r#"/$%7B("TextString"+"123456")%7D/actionChain1.action"#)
    );
    let l = row(
        "common",
        r#"192.168.0.64 - pyllyukko@EXAMPLE.COM [16/Nov/2019:09:46:42 +0200] "GET / HTTP/1.1" 200 8264"#,
    );
    assert_eq!(s(&l.remote_user), Some("pyllyukko@EXAMPLE.COM"));
    assert_eq!(l.time.micros_utc, micros(2019, 11, 16, 7, 46, 42));
    assert_eq!(l.time.local_hour, 9);
    // The brief's probe, with an agent that has quotes of its own.
    let l = row(
        "combined",
        r#"5.6.7.8 - - [17/May/2015:10:05:03 +0000] "GET /?t=<script>alert("x")</script> HTTP/1.0" 404 1164 "-" "Mozilla "quoted" agent""#,
    );
    assert_eq!(
        s(&l.request_path),
        Some(r#"/?t=<script>alert("x")</script>"#)
    );
    assert_eq!(l.status, Some(404));
    assert_eq!(s(&l.http_user_agent), Some(r#"Mozilla "quoted" agent"#));
}

#[test]
fn combined_proxied_address_lists_and_hostnames() {
    // elastic/beats filebeat/module/nginx/access/test/test.log, lines 3 and 7.
    let l = row(
        "combined",
        r#"10.0.0.2, 10.0.0.1, 85.181.35.98 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:49.0) Gecko/20100101 Firefox/49.0""#,
    );
    assert_eq!(s(&l.remote_addr), Some("10.0.0.2, 10.0.0.1, 85.181.35.98"));
    assert_eq!(l.time.micros_utc, micros(2016, 12, 7, 10, 5, 7));
    assert_eq!(s(&l.request_path), Some("/ocelot"));
    assert_eq!((l.status, l.body_bytes_sent), (Some(200), Some(571)));
    let l = row(
        "combined",
        r#"127.0.0.1 - - [12/Apr/2018:09:48:40 +0200] "" 400 0 "-" "-""#,
    );
    assert_eq!(
        (l.request_method, l.status, l.body_bytes_sent),
        (None, Some(400), Some(0))
    );
    // beats test-with-host.log, line 9, without its leading $host: a hostname as address.
    let l = row(
        "nginx-main",
        r#"localhost - - [29/May/2017:19:02:48 +0000] "GET /test2 HTTP/1.1" 200 612 "-" "Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2" "-""#,
    );
    assert_eq!(s(&l.remote_addr), Some("localhost"));
    // beats test.log line 5: a quoted list before the address is another format.
    assert!(matches!(
        parse(
            "combined",
            br#""10.5.102.222, 199.96.1.1, 204.246.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /assets/xxxx?q=100 HTTP/1.1" 200 25507 "-" "Amazon CloudFront""#
        ),
        Parsed::Reject(_)
    ));
}

#[test]
fn nginx_main() {
    // `docker logs` of the official nginx image, in a Docker tutorial (found by code search).
    let line = r#"172.17.0.1 - - [10/Jul/2022:13:34:59 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/7.81.0" "-""#;
    let l = row("nginx-main", line);
    assert_eq!(s(&l.remote_addr), Some("172.17.0.1"));
    assert_eq!(l.time.micros_utc, micros(2022, 7, 10, 13, 34, 59));
    assert_eq!(
        (s(&l.request_method), s(&l.request_path)),
        (Some("GET"), Some("/"))
    );
    assert_eq!((l.status, l.body_bytes_sent), (Some(200), Some(615)));
    assert_eq!(
        (s(&l.http_referer), s(&l.http_user_agent)),
        (None, Some("curl/7.81.0"))
    );
    assert_eq!(l.x_forwarded_for, None);
    let with_xff = line.replace(
        r#""curl/7.81.0" "-""#,
        r#""curl/7.81.0" "203.0.113.7, 10.0.0.1""#,
    );
    assert_eq!(
        s(&row("nginx-main", &with_xff).x_forwarded_for),
        Some("203.0.113.7, 10.0.0.1")
    );
    // Neither format reads the other's lines.
    let at = line.find(r#"" "-""#).unwrap() + 1;
    assert_eq!(
        reason("combined", line.as_bytes()),
        format!("combined: unexpected text after $http_user_agent at byte {at}")
    );
    let combined = &line[..line.len() - 4];
    assert_eq!(
        reason("nginx-main", combined.as_bytes()),
        format!(
            "nginx-main: expected '\" \"' before $http_x_forwarded_for at byte {}",
            combined.len() - 1
        )
    );
}

#[test]
fn ingress_nginx() {
    // ingress-nginx controller logs quoted in a question about 502s (found by code search):
    // three upstreams tried, so the upstream fields are lists.
    let line = r#"192.168.105.1 - - [28/Nov/2024:03:02:09 +0000] "GET / HTTP/1.1" 502 150 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:109.0) Gecko/20100101 Firefox/119.0" 270 0.000 [default-myapp-8888] [] 10.244.0.23:8888, 10.244.0.24:8888, 10.244.0.22:8888 0, 0, 0 0.000, 0.000, 0.000 502, 502, 502 231285d9b34e994d85b195dc8ff832ba"#;
    let l = row("ingress-nginx", line);
    assert_eq!(s(&l.remote_addr), Some("192.168.105.1"));
    assert_eq!(l.time.micros_utc, micros(2024, 11, 28, 3, 2, 9));
    assert_eq!((l.status, l.body_bytes_sent), (Some(502), Some(150)));
    assert_eq!(l.request_length, Some(270));
    assert!(close(l.request_time, 0.0));
    assert!(close(l.upstream_response_time, 0.0));
    // Another such log (a Kubernetes dashboard behind the default backend).
    let l = row(
        "ingress-nginx",
        r#"192.168.65.4 - - [25/Aug/2023:16:19:14 +0000] "GET /runtime.134ad7745384bed8.js HTTP/2.0" 404 548 "https://dashboard.com/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36" 102 0.001 [upstream-default-backend] [] 127.0.0.1:8181 548 0.000 404 1fcd22e5f47201ab738f7b4b8b894551"#,
    );
    assert_eq!(s(&l.request_path), Some("/runtime.134ad7745384bed8.js"));
    assert_eq!(s(&l.request_protocol), Some("HTTP/2.0"));
    assert_eq!(s(&l.http_referer), Some("https://dashboard.com/"));
    assert_eq!(l.request_length, Some(102));
    assert!(close(l.request_time, 0.001));
    assert!(close(l.upstream_response_time, 0.0));
    // Constructed per the nginx docs: ", " between servers, " : " across internal redirects,
    // "-" for a server that never answered.
    let redirected = line
        .replace(
            "10.244.0.23:8888, 10.244.0.24:8888, 10.244.0.22:8888",
            "10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80",
        )
        .replace(
            "0, 0, 0 0.000, 0.000, 0.000 502, 502, 502",
            "0, 12 : 150 0.004, - : 0.020 502, 504 : 200",
        );
    let l = row("ingress-nginx", &redirected);
    assert!(close(l.upstream_response_time, 0.024));
    // A combined line is not an ingress line.
    assert!(matches!(
        parse(
            "ingress-nginx",
            &line.as_bytes()[..line.find(" 270").unwrap()]
        ),
        Parsed::Reject(_)
    ));
}

#[test]
fn traefik() {
    // elastic/beats filebeat/module/traefik/access/test/test.log, line 1.
    let l = row(
        "traefik",
        r#"192.168.33.1 - - [02/Oct/2017:20:22:07 +0000] "GET /ui/favicons/favicon-16x16.png HTTP/1.1" 304 0 "http://example.com/login" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/61.0.3163.100 Safari/537.36" 262 "Host-host-1" "http://172.19.0.3:5601" 2ms"#,
    );
    assert_eq!(s(&l.remote_addr), Some("192.168.33.1"));
    assert_eq!(l.time.micros_utc, micros(2017, 10, 2, 20, 22, 7));
    assert_eq!(s(&l.request_path), Some("/ui/favicons/favicon-16x16.png"));
    assert_eq!((l.status, l.body_bytes_sent), (Some(304), Some(0)));
    assert_eq!(s(&l.http_referer), Some("http://example.com/login"));
    assert!(close(l.request_time, 0.002));
    // Line 2 lost the closing quote of its router name: two quoted fields became one.
    let broken = br#"85.181.35.98 - - [02/Oct/2017:20:22:08 +0000] "GET /ui/favicons/favicon.ico HTTP/1.1" 304 0 "http://example.com/login" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/61.0.3163.100 Safari/537.36" 271 "Host-host1 "http://172.19.0.3:5601" 3ms"#;
    let why = reason("traefik", broken);
    assert!(
        why.starts_with("traefik: expected '\" \"' before backend-url"),
        "{why}"
    );
    // Traefik Hub's getting-started docs (journalctl output): IPv6 loopback, an https backend.
    let l = row(
        "traefik",
        r#"::1 - - [09/Oct/2024:15:14:35 +0000] "GET /whoami HTTP/1.1" 200 462 "-" "-" 1 "whoami@consulcatalog" "https://192.168.64.3:21001" 61ms"#,
    );
    assert_eq!(
        (s(&l.remote_addr), l.status, l.body_bytes_sent),
        (Some("::1"), Some(200), Some(462))
    );
    assert_eq!(
        (l.http_referer.as_deref(), l.http_user_agent.as_deref()),
        (None, None)
    );
    assert!(close(l.request_time, 0.061));
    // A gateway timeout in a Traefik question (found by code search): 29970ms.
    let l = row(
        "traefik",
        r#"10.255.0.2 - - [02/Oct/2019:02:47:34 +0000] "GET /portainer HTTP/1.1" 504 15 "-" "-" 2 "portainer@docker" "http://10.255.0.141:9000" 29970ms"#,
    );
    assert!(close(l.request_time, 29.97));
}

#[test]
fn caddy() {
    // caddy-log-exporter (go.xsfx.dev), internal/server test "00": a real Caddy access line.
    let line = r#"{"level":"info","ts":1726651920.3685553,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"x.x.x.x","remote_port":"50440","client_ip":"x.x.x.x","proto":"HTTP/2.0","method":"GET","host":"foo.tld","uri":"/prometheus/cadvisor/src/commit/09f63dbfd2b38e76c204c8809fb4c2d1c9ad5879/vendor/github.com/golang/snappy/decode.go","headers":{"User-Agent":["facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"],"Accept":["*/*"]},"tls":{"resumed":false,"version":772,"cipher_suite":4865,"proto":"h2","server_name":"git.xsfx.dev"}},"bytes_read":0,"user_id":"","duration":0.003550188,"size":0,"status":200,"resp_headers":{"Server":["Caddy"],"Alt-Svc":["h3=\":443\"; ma=2592000"],"Content-Length":[""]}}"#;
    let l = row("caddy", line);
    assert_eq!(l.time.micros_utc, micros(2024, 9, 18, 9, 32, 0) + 368_555);
    assert_eq!(
        (l.time.local_day, l.time.local_hour),
        (super::days_from_civil(2024, 9, 18), 9)
    );
    assert_eq!(s(&l.remote_addr), Some("x.x.x.x"));
    assert_eq!(s(&l.request_protocol), Some("HTTP/2.0"));
    assert_eq!(s(&l.request_method), Some("GET"));
    assert_eq!(s(&l.vhost), Some("foo.tld"));
    assert_eq!(
        s(&l.request_path),
        Some(
            "/prometheus/cadvisor/src/commit/09f63dbfd2b38e76c204c8809fb4c2d1c9ad5879/vendor/github.com/golang/snappy/decode.go"
        )
    );
    assert_eq!(
        s(&l.http_user_agent),
        Some("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)")
    );
    assert_eq!(l.http_referer, None);
    assert_eq!(s(&l.ssl_protocol), Some("TLSv1.3"));
    assert!(close(l.request_time, 0.003550188));
    assert_eq!(
        (
            l.body_bytes_sent,
            l.status,
            l.request_length,
            l.remote_user.as_deref()
        ),
        (Some(0), Some(200), Some(0), None)
    );
    // Behind `docker compose logs`.
    let prefixed = format!("caddy-1  | {line}");
    assert_eq!(row("caddy", &prefixed).status, Some(200));
    // A Go test of a Caddy log reader (found by code search): the host carries the port.
    let l = row(
        "caddy",
        r#"{"level":"info","ts":1790507096.371178,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"130.12.180.117","remote_port":"22700","client_ip":"130.12.180.117","proto":"HTTP/2.0","method":"GET","host":"just-dashboard.com:443","uri":"/.env","headers":{"User-Agent":["Mozilla/5.0"],"Accept-Encoding":["gzip"]}},"bytes_read":0,"user_id":"","duration":0.011442643,"size":2873,"status":404}"#,
    );
    assert_eq!(
        (s(&l.vhost), l.server_port, l.status),
        (Some("just-dashboard.com"), Some(443), Some(404))
    );
    assert_eq!(l.time.micros_utc, micros(2026, 9, 27, 11, 4, 56) + 371_178);
    // Caddy's own runtime messages share the stream: not requests, not rejects.
    for other in [
        r#"{"level":"info","ts":1646861401.52,"logger":"tls.cache.maintenance","msg":"started background certificate maintenance","cache":"0xc0004a2a80"}"#,
        r#"{"level":"info","ts":1646861401.53,"msg":"serving initial configuration"}"#,
    ] {
        assert_eq!(parse("caddy", other.as_bytes()), Parsed::Skip);
    }
    // An ISO `ts` (time_format iso8601) and a Go duration string.
    let l = row(
        "caddy",
        r#"{"ts":"2024-08-03T13:14:17+02:00","logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"1.2.3.4","method":"GET","uri":"/index.php"},"duration":"1.5ms","status":200}"#,
    );
    assert_eq!(l.time.micros_utc, micros(2024, 8, 3, 11, 14, 17));
    assert_eq!(l.time.local_hour, 13);
    assert!(close(l.request_time, 0.0015));
    assert!(reason("caddy", b"not json").starts_with("caddy: not a JSON object"));
}

/// plaso's IIS 6 file, then (a rotation later, in the same file) its IIS 10 columns.
const IIS_FILE: &str = "#Software: Microsoft Internet Information Services 6.0
#Version: 1.0
#Date: 2013-07-30 00:00:00
#Fields: date time s-sitename s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status 
2013-07-30 00:00:03 SOME1234NAME 10.10.10.100 GET /some/path/something.jpg whichServer=WEBSOS2 80 - 10.10.10.100 CFSCHEDULE 200 0 0
2013-07-30 00:00:08 SOME1234NAME 10.10.10.100 GET /something.jpg - 80 - 22.22.22.200 - 200 0 0
#Software: Microsoft Internet Information Services 10.0
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken
2021-04-01 00:00:21 111.111.111.111 GET /foo/bar/baz.asp - 80 - 222.222.222.222 Mozilla/5.0+(Windows+NT+5.1)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/35.0.2309.372+Safari/537.36 http://111.111.111.111/ 200 0 0 65";

#[test]
fn w3c_fields_change_mid_file() {
    // log2timeline/plaso test_data/iis.log (IIS 6) and test_data/iis10.log (IIS 10).
    let format = Format::compile("w3c").unwrap();
    let mut p = format.parser(None);
    let lines: Vec<&str> = IIS_FILE.lines().collect();
    assert!(
        reason("w3c", lines[4].as_bytes()).contains("w3c: no #Fields: directive before this line")
    );
    for l in &lines[..4] {
        assert_eq!(p.parse(l.as_bytes()), Parsed::Skip);
    }
    let Parsed::Row(r) = p.parse(lines[4].as_bytes()) else {
        panic!()
    };
    assert_eq!(r.time.micros_utc, micros(2013, 7, 30, 0, 0, 3));
    assert_eq!(s(&r.request_method), Some("GET"));
    assert_eq!(
        s(&r.request_path),
        Some("/some/path/something.jpg?whichServer=WEBSOS2")
    );
    assert_eq!(
        (r.server_port, s(&r.remote_addr)),
        (Some(80), Some("10.10.10.100"))
    );
    assert_eq!(
        (s(&r.http_user_agent), r.status, r.request_time),
        (Some("CFSCHEDULE"), Some(200), None)
    );
    let Parsed::Row(r) = p.parse(lines[5].as_bytes()) else {
        panic!()
    };
    assert_eq!(
        (s(&r.request_path), r.http_user_agent.as_deref()),
        (Some("/something.jpg"), None)
    );
    // The new columns take over; a checkpoint saves them.
    assert_eq!(p.parse(lines[6].as_bytes()), Parsed::Skip);
    assert_eq!(p.parse(lines[7].as_bytes()), Parsed::Skip);
    let state = p.state().unwrap().to_owned();
    assert!(state.starts_with("#Fields: date time s-ip") && state.ends_with("time-taken"));
    for parser in [&mut p, &mut format.parser(Some(&state))] {
        let Parsed::Row(r) = parser.parse(lines[8].as_bytes()) else {
            panic!()
        };
        assert_eq!(r.time.micros_utc, micros(2021, 4, 1, 0, 0, 21));
        assert_eq!(s(&r.remote_addr), Some("222.222.222.222"));
        assert_eq!(s(&r.request_path), Some("/foo/bar/baz.asp"));
        assert_eq!(
            s(&r.http_user_agent),
            Some(
                "Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.2309.372 Safari/537.36"
            )
        );
        assert_eq!(s(&r.http_referer), Some("http://111.111.111.111/"));
        assert_eq!(r.status, Some(200));
        assert!(close(r.request_time, 0.065));
    }
    // Found by fuzzing: a method column that is no method is NULL, as in request lines.
    let odd = "2021-04-01 00:00:21 111.111.111.111 \tGET /foo/bar/baz.asp - 80 - 222.222.222.222 - - 200 0 0 65";
    let Parsed::Row(r) = p.parse(odd.as_bytes()) else {
        panic!()
    };
    assert_eq!(
        (r.request_method, s(&r.request_path)),
        (None, Some("/foo/bar/baz.asp"))
    );
    // The old column count no longer fits.
    assert!(matches!(p.parse(lines[4].as_bytes()), Parsed::Reject(_)));
}

#[test]
fn aws_alb() {
    // log2timeline/plaso test_data/aws_elb_access.log, lines 1 and 3 (ALB, 2020 fields).
    let l = row(
        "aws-alb",
        r#"https 2020-01-11T16:55:20.356586Z app/production-web/jf29fj2198ejf922 192.168.1.10:44325 192.168.1.123:32869 0.013 0.164 0.000 200 200 391 107999 "GET https://www.domain.name:443/ HTTP/1.1" "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; WOW64; Trident/6.0)" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789123 "XXXXXXX" "www.domain.name" "arn:aws:abc:us-east-2:234567891234:certificate" 2 2020-01-11T16:55:19.624000Z "waf,forward" "-" "-" "192.168.1.123:32869" "200" "-" "-""#,
    );
    assert_eq!(s(&l.remote_addr), Some("192.168.1.10"));
    assert_eq!(l.time.micros_utc, micros(2020, 1, 11, 16, 55, 20) + 356_586);
    assert!(close(l.request_time, 0.177));
    assert!(close(l.upstream_response_time, 0.164));
    assert_eq!(
        (l.status, l.request_length, l.body_bytes_sent),
        (Some(200), Some(391), Some(107_999))
    );
    assert_eq!(
        (s(&l.request_method), s(&l.request_path)),
        (Some("GET"), Some("/"))
    );
    assert_eq!(
        (s(&l.vhost), l.server_port),
        (Some("www.domain.name"), Some(443))
    );
    assert_eq!(s(&l.request_protocol), Some("HTTP/1.1"));
    assert_eq!(
        s(&l.http_user_agent),
        Some("Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; WOW64; Trident/6.0)")
    );
    assert_eq!(s(&l.ssl_protocol), Some("TLSv1.2"));
    let l = row(
        "aws-alb",
        r#"h2 2020-01-11T16:55:34.397124Z app/production-web/jf29fj2198ejf922 192.168.1.10:55753 192.168.1.123:32869 0.005 0.008 0.000 301 301 35 290 "GET https://www.domain.name:443/images/test.png?v=5 HTTP/2.0" "Mozilla/5.0 (iPhone; CPU iPhone OS 14_4_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148  Safari//ncdkkdmsgvtxrndqffyfatjvbytwlqak" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789123:targetgroup/dev-abc/13ff1ec1f13456f1 "XXXXXXX" "www.domain.name" "arn:aws:abc:us-east-2:234567891234:certificate/a246f123-221c-56a1-d3bc-c01860f9f16e" 2 2020-01-11T16:55:34.384000Z "waf,forward" "-" "-" "192.168.1.123:32869" "301" "-" "-""#,
    );
    assert_eq!(s(&l.request_path), Some("/images/test.png?v=5"));
    assert_eq!(s(&l.request_protocol), Some("HTTP/2.0"));
    assert_eq!(l.status, Some(301));
    // No target answered: -1 times are skipped, `-` statuses are NULL.
    let l = row(
        "aws-alb",
        r#"http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - -1 -1 -1 - - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-""#,
    );
    assert_eq!(
        (l.request_time, l.upstream_response_time, l.status),
        (None, None, None)
    );
    assert_eq!(
        (s(&l.vhost), l.server_port, l.ssl_protocol.as_deref()),
        (Some("www.example.com"), Some(80), None)
    );
    // plaso's classic ELB lines (no type field) are another format.
    assert!(matches!(
        parse(
            "aws-alb",
            br#"2021-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -"#
        ),
        Parsed::Reject(_)
    ));
}

#[test]
fn cloudfront() {
    // elastic/integrations packages/aws/data_stream/cloudfront_logs/_dev/test/pipeline/
    // test-cloudfront.log: its header, its IPv6 line and its error line.
    let header = "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end";
    let ipv6 = "2019-12-04\t21:02:31\tLAX1\t392\t2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\t-\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36\t-\t-\tHit\tk6WGMNkEzR5BEM_SaF47gjtX9zBDO2m349OY2an0QPEaUum1ZOLrow==\td111111abcdef8.cloudfront.net\thttps\t23\t0.000\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.000\tHit\ttext/html\t78\t-\t-";
    let error = "2019-12-13\t22:36:27\tSEA19-C1\t900\t89.160.20.112\tGET\td111111abcdef8.cloudfront.net\t/favicon.ico\t502\thttp://www.example.com/\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/78.0.3904.108%20Safari/537.36\t-\t-\tError\t1pkpNfBQ39sYMnjjUQjmH2w1wdJnbHYTbag21o_3OfcQgPzdL2RSSQ==\twww.example.com\thttp\t675\t0.102\t-\t-\t-\tError\tHTTP/1.1\t-\t-\t25260\t0.102\tOriginDnsError\ttext/html\t507\t-\t-";
    let format = Format::compile("cloudfront").unwrap();
    let mut p = format.parser(None);
    for h in header.lines() {
        assert_eq!(p.parse(h.as_bytes()), Parsed::Skip);
    }
    let Parsed::Row(l) = p.parse(ipv6.as_bytes()) else {
        panic!()
    };
    assert_eq!(l.time.micros_utc, micros(2019, 12, 4, 21, 2, 31));
    assert_eq!(
        s(&l.remote_addr),
        Some("2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6")
    );
    assert_eq!(
        (s(&l.request_method), s(&l.request_path)),
        (Some("GET"), Some("/index.html"))
    );
    assert_eq!(
        (l.status, l.body_bytes_sent, l.request_length),
        (Some(200), Some(392), Some(23))
    );
    assert_eq!(
        s(&l.http_user_agent),
        Some(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36"
        )
    );
    assert_eq!(
        (s(&l.vhost), s(&l.cache_status), s(&l.ssl_protocol)),
        (
            Some("d111111abcdef8.cloudfront.net"),
            Some("Hit"),
            Some("TLSv1.2")
        )
    );
    assert_eq!(s(&l.request_protocol), Some("HTTP/2.0"));
    assert!(close(l.request_time, 0.0));
    let Parsed::Row(l) = p.parse(error.as_bytes()) else {
        panic!()
    };
    assert_eq!(
        (l.status, s(&l.http_referer), s(&l.vhost)),
        (
            Some(502),
            Some("http://www.example.com/"),
            Some("www.example.com")
        )
    );
    assert_eq!(
        (s(&l.cache_status), l.ssl_protocol.as_deref()),
        (Some("Error"), None)
    );
    assert!(close(l.request_time, 0.102));
    // claygregory/node-cloudfront-log-parser test/fixtures/web-1-0-2019-12.txt: the AWS docs
    // example, agent encoded twice (%2520) and decoded twice, read without a header by the
    // default columns.
    let docs = "2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\t-\tMozilla/5.0%2520(Windows%2520NT%252010.0;%2520Win64;%2520x64)%2520AppleWebKit/537.36%2520(KHTML,%2520like%2520Gecko)%2520Chrome/78.0.3904.108%2520Safari/537.36\t-\t-\tHit\tSOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\td111111abcdef8.cloudfront.net\thttps\t23\t0.001\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.001\tHit\ttext/html\t78\t-\t-";
    let l = row("cloudfront", docs);
    assert_eq!(s(&l.remote_addr), Some("192.0.2.100"));
    assert!(
        s(&l.http_user_agent)
            .unwrap()
            .starts_with("Mozilla/5.0 (Windows NT 10.0;")
    );
    assert!(close(l.request_time, 0.001));
}

/// Every line of `text` through one parser of `format` (W3C keeps state across lines): rows,
/// skips and rejects as they came.
fn parse_file<'a>(format: &str, text: &'a str) -> Vec<Parsed<'a>> {
    let format = Format::compile(format).unwrap();
    let mut p = format.parser(None);
    text.lines().map(|l| p.parse(l.as_bytes())).collect()
}

fn rows_of<'a>(parsed: Vec<Parsed<'a>>) -> Vec<super::super::LogLine<'a>> {
    parsed
        .into_iter()
        .filter_map(|p| match p {
            Parsed::Row(r) => Some(r),
            Parsed::Skip => None,
            Parsed::Reject(r) => panic!("reject: {}", r.reason()),
        })
        .collect()
}

#[test]
fn w3c_quoted_values_runs_of_spaces_and_local_times() {
    // Quoted values with spaces and "" escapes (IIS Advanced Logging, Incapsula), runs of
    // spaces between values (plaso's iis10_edge_cases.log shape), and a column weblog does
    // not know, all in one file. Expected values read off the lines by hand.
    let text = "#Software: Microsoft Internet Information Services 10.0\n\
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Cookie) sc-status x-unknown time-taken\n\
2026-12-03 06:00:01 10.0.0.1 GET /a q=1 443 - 203.0.113.5 \"Mozilla/5.0 (X11; Linux)\" \"a=1; b=\"\"two\"\"\" 200 zz 15\n\
2026-12-03  06:00:02   10.0.0.1 GET /b - 443 - 203.0.113.6 curl/8 - 404 - 3   \n\
#Fields: date-local time-local c-ip cs-method cs-uri-stem sc-status\n\
\"2026-12-03\" \"07:30:00\" \"198.51.100.7\" \"GET\" \"/c\" \"301\"\n";
    let rows = rows_of(parse_file("w3c", text));
    assert_eq!(rows.len(), 3);
    assert_eq!(
        s(&rows[0].http_user_agent),
        Some("Mozilla/5.0 (X11; Linux)")
    );
    assert_eq!(
        (rows[0].status, rows[0].request_path.as_deref()),
        (Some(200), Some("/a?q=1"))
    );
    assert!(close(rows[0].request_time, 0.015));
    assert_eq!(rows[1].time.micros_utc, micros(2026, 12, 3, 6, 0, 2));
    assert_eq!(
        (rows[1].status, s(&rows[1].remote_addr)),
        (Some(404), Some("203.0.113.6"))
    );
    assert!(close(rows[1].request_time, 0.003));
    // date-local / time-local where no date / time columns exist: the time as written.
    assert_eq!(rows[2].time.micros_utc, micros(2026, 12, 3, 7, 30, 0));
    assert_eq!(
        (
            rows[2].status,
            s(&rows[2].remote_addr),
            s(&rows[2].request_path)
        ),
        (Some(301), Some("198.51.100.7"), Some("/c"))
    );
    // A quote never closed is a reject that says so.
    let parsed = parse_file(
        "w3c",
        "#Fields: date time c-ip cs-method cs-uri-stem sc-status\n2026-12-03 06:00:01 \"1.2.3.4 GET / 200\n",
    );
    assert!(
        matches!(&parsed[1], Parsed::Reject(r) if r.reason().contains("unclosed quote")),
        "{parsed:?}"
    );
    // A quoted value must end at a separator: text right after the closing quote (here a
    // two-byte character, which the fuzzer found once cut in half) is a reject.
    let parsed = parse_file(
        "w3c",
        "#Fields: date time c-ip cs-method
2026-12-03 06:00:01 \"1.2.3.4\"\u{799} GET\n",
    );
    assert!(
        matches!(&parsed[1], Parsed::Reject(r)
            if r.reason() == "w3c: expected ' ' after the quoted value at byte 29"),
        "{parsed:?}"
    );
}

#[test]
fn cloudfront_user_agents_are_decoded_twice() {
    // CloudFront encodes the user agent twice: %2520 is a space.
    let line = "2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td1.cloudfront.net\t/index.html\t200\t-\tMozilla/5.0%2520(Windows%2520NT%252010.0)\t-\t-\tHit\tSOX4==\twww.example.com\thttps\t23\t0.001";
    let r = row("cloudfront", line);
    assert_eq!(s(&r.http_user_agent), Some("Mozilla/5.0 (Windows NT 10.0)"));
    // matomo-org/matomo-log-analytics tests/logs/amazon_cloudfront_web.log.
    let text = "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields\n2014-05-23\t01:13:11\tFRA2\t182\t192.0.2.10\tGET\td111111abcdef8.cloudfront.net\t/view/my/file.html\t200\thttps://example.com/\tMozilla/5.0%2520(Windows;%2520U;%2520Windows%2520NT%25206.1;%2520de-DE)%2520AppleWebKit/534.17%2520(KHTML,%2520like%2520Gecko)%2520Chrome/10.0.649.0%2520Safari/534.17\t-\t-\tMiss\tMRVMF7KydIvxMWfJIglgwHQwZsbG2IhRJ07sn9AkKUFSHS9EXAMPLE==\texample.com\thttps\t217\t0.001\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tMiss\tHTTP/1.1\t-\t-\n";
    let rows = rows_of(parse_file("cloudfront", text));
    assert_eq!(
        s(&rows[0].http_user_agent),
        Some(
            "Mozilla/5.0 (Windows; U; Windows NT 6.1; de-DE) AppleWebKit/534.17 (KHTML, like Gecko) Chrome/10.0.649.0 Safari/534.17"
        )
    );
    assert_eq!(
        (s(&rows[0].vhost), s(&rows[0].request_path), rows[0].status),
        (Some("example.com"), Some("/view/my/file.html"), Some(200))
    );
}

#[test]
fn aws_classic_elb() {
    // AWS's Classic Load Balancer documentation, "Example entries": HTTP, HTTPS and TCP.
    let http = r#"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -"#;
    let https = r#"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000086 0.001048 0.001337 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.38.0" DHE-RSA-AES128-SHA TLSv1.2"#;
    let tcp = r#"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 305 "- - - " "-" - -"#;
    let old = r#"2014-02-15T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/a?b=1 HTTP/1.1""#;
    for name in ["aws-elb", "elb", "classic-elb"] {
        let l = row(name, http);
        assert_eq!(s(&l.remote_addr), Some("192.168.131.39"));
        assert_eq!(l.time.micros_utc, micros(2015, 5, 13, 23, 39, 43) + 945_958);
        assert!(close(l.request_time, 0.000073 + 0.001048 + 0.000057));
        assert_eq!(
            (l.status, l.request_length, l.body_bytes_sent),
            (Some(200), Some(0), Some(29))
        );
        assert_eq!(
            (
                s(&l.request_method),
                s(&l.request_path),
                s(&l.http_user_agent)
            ),
            (Some("GET"), Some("/"), Some("curl/7.38.0"))
        );
    }
    let l = row("aws-elb", https);
    assert_eq!(
        (s(&l.ssl_protocol), l.server_port),
        (Some("TLSv1.2"), Some(443))
    );
    let l = row("aws-elb", tcp);
    assert_eq!((l.status, s(&l.request_method)), (None, None));
    assert_eq!(l.body_bytes_sent, Some(305));
    let l = row("aws-elb", old);
    assert_eq!(
        (s(&l.request_path), l.http_user_agent.as_deref()),
        (Some("/a?b=1"), None)
    );
    // Detected by its shape; an ALB line is not a Classic line.
    assert_eq!(
        super::super::detect(&[http.as_bytes(), tcp.as_bytes()])
            .unwrap()
            .name(),
        "aws-elb"
    );
    assert!(reason("aws-elb", b"http 2018-11-30T22:23:00.186641Z app/x 1.2.3.4:1 - -1 -1 -1 - - 34 366 \"GET / HTTP/1.1\" \"c\" - -").contains("aws-elb"));
}

#[test]
fn aws_s3_server_access_log() {
    // AWS's "Amazon S3 server access log format" page, its two example records, and the same
    // record as S3 wrote it before 2017 (ending after the user agent).
    let first = r#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be DOC-EXAMPLE-BUCKET1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /DOC-EXAMPLE-BUCKET1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader DOC-EXAMPLE-BUCKET1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes"#;
    let second = r#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be DOC-EXAMPLE-BUCKET1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 891CE47D2EXAMPLE REST.GET.LOGGING_STATUS - "GET /DOC-EXAMPLE-BUCKET1?logging HTTP/1.1" 200 - 242 - 11 - "-" "S3Console/0.4" - 9vKBE6vMhrNiWHZmb2L0mXOcqPGzQOI5XLnCtZNPxev+Hf+7tpT6sxDwDty4LHBUOZJG96N1234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader DOC-EXAMPLE-BUCKET1.s3.us-west-1.amazonaws.com TLSV1.2 - -"#;
    let old = r#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be DOC-EXAMPLE-BUCKET1 [06/Feb/2016:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.OBJECT a/b.txt "GET /DOC-EXAMPLE-BUCKET1/a/b.txt HTTP/1.1" 404 NoSuchKey - - 3 - "http://example.com/" "curl/7.4""#;
    for name in ["aws-s3", "s3"] {
        let l = row(name, first);
        assert_eq!(s(&l.remote_addr), Some("192.0.2.3"));
        assert_eq!(l.time.micros_utc, micros(2019, 2, 6, 0, 0, 38));
        assert_eq!(
            (s(&l.request_method), s(&l.request_path)),
            (Some("GET"), Some("/DOC-EXAMPLE-BUCKET1?versioning"))
        );
        assert_eq!((l.status, l.body_bytes_sent), (Some(200), Some(113)));
        assert!(close(l.request_time, 0.007));
        assert_eq!(s(&l.http_user_agent), Some("S3Console/0.4"));
        assert_eq!(
            (s(&l.vhost), s(&l.ssl_protocol)),
            (
                Some("DOC-EXAMPLE-BUCKET1.s3.us-west-1.amazonaws.com"),
                Some("TLSV1.2")
            )
        );
    }
    let l = row("aws-s3", second);
    assert_eq!(
        (l.body_bytes_sent, s(&l.request_path)),
        (Some(242), Some("/DOC-EXAMPLE-BUCKET1?logging"))
    );
    let l = row("aws-s3", old);
    assert_eq!(
        (l.status, l.body_bytes_sent, s(&l.http_referer)),
        (Some(404), Some(0), Some("http://example.com/"))
    );
    assert_eq!(s(&l.vhost), None);
    assert_eq!(
        super::super::detect(&[first.as_bytes(), second.as_bytes()])
            .unwrap()
            .name(),
        "aws-s3"
    );
    // matomo-org/matomo-log-analytics tests/logs/s3.log: a website bucket, 2012's 18 fields.
    let matomo = r#"b659b576cff1e15e4c0313ff8930fba9f53e6794567f5c60dab3abf2f8dfb6cc www.example.com [10/Feb/2012:16:42:07 -0500] 1.2.3.4 arn:aws:iam::179580289999:user/phillip.boss EB3502676500C6BE WEBSITE.GET.OBJECT index "GET /index HTTP/1.1" 200 - 368 368 10 9 "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/535.11 (KHTML, like Gecko) Chrome/17.0.963.56 Safari/535.11""#;
    let l = row("aws-s3", matomo);
    assert_eq!(l.time.micros_utc, micros(2012, 2, 10, 21, 42, 7));
    assert_eq!(
        (
            s(&l.remote_addr),
            s(&l.request_path),
            l.status,
            l.body_bytes_sent
        ),
        (Some("1.2.3.4"), Some("/index"), Some(200), Some(368))
    );
    assert!(close(l.request_time, 0.010));
}

/// Found by the property tests: a user agent holding a quoted word, in a line that ends after
/// the agent, was closed at its inner quote and the words after it read as the fields S3 and
/// Classic ELB added later, the last one ending in the line's closing quote.
#[test]
fn a_quote_inside_an_agent_at_the_end_of_a_short_line() {
    let s3 = r#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be DOC-EXAMPLE-BUCKET1 [06/Feb/2016:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.OBJECT a/b.txt "GET /DOC-EXAMPLE-BUCKET1/a/b.txt HTTP/1.1" 200 - 5 5 3 2 "-" "Mozilla/5.0 "compatible" bot""#;
    let l = row("aws-s3", s3);
    assert_eq!(
        s(&l.http_user_agent),
        Some(r#"Mozilla/5.0 "compatible" bot"#)
    );
    let elb = r#"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl "x" a b""#;
    let l = row("aws-elb", elb);
    assert_eq!(
        (s(&l.http_user_agent), s(&l.ssl_protocol)),
        (Some(r#"curl "x" a b"#), None)
    );
}

#[test]
fn w3c_samples_of_matomos_log_importer() {
    // matomo-org/matomo-log-analytics tests/logs/iis_custom.log (IIS Advanced Logging: blank
    // header lines, runs of spaces in #Fields:, local times with milliseconds, quoted values,
    // a column it does not know) and tests/logs/incapsula.log (every value quoted).
    let iis = "#Software: IIS Advanced Logging Module\n\n#Version: 1.0\n    \n#Start-Date: 2014-11-18 00:00:00.128\n   \n#Fields:   date-local time-local   s-ip   cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) cs(Host) sc-status sc-substatus sc-win32-status TimeTakenMS\n2012-08-15 17:00:00.363 1.2.3.4 GET /Products/theProduct - 80 - \"70.95.0.0\" \"Mozilla/5.0 (Linux; Android 4.4.4; SM-G900V Build/KTU84P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/39.0.2171.59 Mobile Safari/537.36\" \"http://example.com/Search/SearchResults.pg?informationRecipient.languageCode.c=en\" \"xzy.example.com\" 200 0 0 109\n2012-08-15 17:00:00.660 10.10.28.140 GET /Topic/hw43061 - 80 - - \"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2227.1 Safari/537.36\" - \"example.hello.com\" 301 0 0 0\n2012-08-15 17:00:00.675 10.10.28.140 GET /hello/world/6,681965 - 80 - \"173.5.0.0\" \"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/37.0.2062.124 Safari/537.36\" - \"hello.example.com\" 404 \" garbage w/ spaces \" 0 359\n";
    let rows = rows_of(parse_file("w3c", iis));
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0].time.micros_utc,
        micros(2012, 8, 15, 17, 0, 0) + 363_000
    );
    assert_eq!(
        (s(&rows[0].remote_addr), s(&rows[0].vhost), rows[0].status),
        (Some("70.95.0.0"), Some("xzy.example.com"), Some(200))
    );
    assert_eq!(
        s(&rows[0].http_referer),
        Some("http://example.com/Search/SearchResults.pg?informationRecipient.languageCode.c=en")
    );
    assert_eq!((rows[1].status, s(&rows[1].remote_addr)), (Some(301), None));
    assert_eq!(
        (rows[2].status, s(&rows[2].request_path)),
        (Some(404), Some("/hello/world/6,681965"))
    );
    let incapsula = "#Software: Incapsula LOGS API\n#Version: 1.1\n#Date: 28/Jun/2017 07:28:59\n#Fields: date time cs-vid cs-clapp cs-browsertype cs-js-support cs-co-support c-ip s-caip cs-clappsig s-capsupport s-suid cs(User-Agent) cs-sessionid s-siteid cs-countrycode s-tag cs-cicode s-computername cs-lat cs-long s-accountname cs-uri cs-postbody cs-version sc-action s-externalid cs(Referrer) s-ip s-port cs-method cs-uri-query sc-status s-xff cs-bytes cs-start cs-rule cs-severity cs-attacktype cs-attackid s-ruleName\n\"2017-06-28\" \"07:26:35\" \"a1f36498-c34a-45b9-b3a5-ee0bd00f91b6\" \"Chrome\" \"Browser\" \"false\" \"true\" \"123.123.123.123\" \"\" \"62a660e57ba257275cf7ccf699919eae18e07e84cb11c1075e99b1be98456059d3064ec14d3932ba6e89f5393a158b8b8c2572ad7ad7dadb0fe02a34ae4c3d504c035017bf9a6a7802bb898226378938\" \"NA\" \"774502\" \"Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/58.0.3029.110 Safari/537.36\" \"452000660051880893\" \"44850949\" \"SE\" \"LS\" \"Stockholm\" \"www.example.com\" \"32.0000\" \"32.0000\" \"Customer\" \"www.example.com/page.php\" \"\" \"HTTP\" \"REQ_PASSED\" \"118866685985031205\" \"\" \"124.124.124.124\" \"80\" \"GET\" \"variable=test\" \"200\" \"123.123.123.123\" \"10117\" \"1498634795555\" \"\" \"\" \"\" \"\" \"\"\n";
    let rows = rows_of(parse_file("w3c", incapsula));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].time.micros_utc, micros(2017, 6, 28, 7, 26, 35));
    assert_eq!(
        (
            s(&rows[0].remote_addr),
            s(&rows[0].request_method),
            rows[0].status
        ),
        (Some("123.123.123.123"), Some("GET"), Some(200))
    );
    assert_eq!(
        s(&rows[0].http_user_agent),
        Some(
            "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/58.0.3029.110 Safari/537.36"
        )
    );
}

#[test]
fn traefik_json() {
    // matomo-org/matomo-log-analytics tests/logs/traefik_json.log.
    let line = r#"{"ClientAddr":"172.20.0.1:52458","ClientHost":"172.0.0.1","ClientPort":"52458","ClientUsername":"-","request_User-Agent":"Prometheus/2.40.5","request_Referer":"www.example.com","DownstreamContentSize":15,"DownstreamStatus":200,"Duration":10002425284,"OriginContentSize":15,"OriginDuration":10002302842,"OriginStatus":504,"Overhead":122442,"RequestAddr":"localhost","RequestContentSize":0,"RequestCount":1,"RequestHost":"localhost","RequestMethod":"GET","RequestPath":"/my/app/auth?id=1234&user=dude","RequestPort":"-","RequestProtocol":"HTTP/1.1","RequestScheme":"http","RetryAttempts":0,"RouterName":"my-router@file","ServiceAddr":"apache:80","ServiceName":"my-service@file","ServiceURL":{"Scheme":"http","Opaque":"","User":null,"Host":"apache:80","Path":"","RawPath":"","OmitHost":false,"ForceQuery":false,"RawQuery":"","Fragment":"","RawFragment":""},"StartLocal":"2023-08-11T11:39:21.773360139Z","StartUTC":"2023-08-11T11:39:21.773360139Z","entryPointName":"http","level":"info","msg":"","time":"2023-08-11T11:41:25Z"}"#;
    let l = row("traefik-json", line);
    assert_eq!(s(&l.remote_addr), Some("172.0.0.1"));
    assert_eq!(l.time.micros_utc, micros(2023, 8, 11, 11, 39, 21) + 773_360);
    assert_eq!(
        (
            s(&l.request_method),
            s(&l.request_path),
            s(&l.request_protocol)
        ),
        (
            Some("GET"),
            Some("/my/app/auth?id=1234&user=dude"),
            Some("HTTP/1.1")
        )
    );
    assert_eq!((l.status, l.body_bytes_sent), (Some(200), Some(15)));
    assert!(
        (l.request_time.unwrap() - 10.002425284).abs() < 1e-6,
        "{:?}",
        l.request_time
    );
    assert_eq!(
        (s(&l.http_user_agent), s(&l.http_referer), s(&l.vhost)),
        (
            Some("Prometheus/2.40.5"),
            Some("www.example.com"),
            Some("localhost")
        )
    );
    assert_eq!(s(&l.remote_user), None);
    assert_eq!(
        super::super::detect(&[line.as_bytes()]).unwrap().name(),
        "traefik-json"
    );
}

/// HAProxy's configuration manual (1.7), "8.2.3. HTTP log format": its example, joined.
pub(super) const HAPROXY_DOC: &str = r#"Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#;

#[test]
fn haproxy_http_log() {
    for name in ["haproxy", "httplog"] {
        let l = owned(name, HAPROXY_DOC);
        assert_eq!(s(&l.remote_addr), Some("10.0.1.2"));
        // No zone in the accept date: read as UTC, the day and hour as written.
        assert_eq!(l.time.micros_utc, micros(2009, 2, 6, 12, 14, 14) + 655_000);
        assert_eq!(l.time.local_hour, 12);
        assert!(close(l.request_time, 0.109), "Ta");
        assert!(close(l.upstream_response_time, 0.069), "Tr");
        assert_eq!((l.status, l.body_bytes_sent), (Some(200), Some(2750)));
        assert_eq!(
            (
                s(&l.request_method),
                s(&l.request_path),
                s(&l.request_protocol)
            ),
            (Some("GET"), Some("/index.html"), Some("HTTP/1.1"))
        );
        assert_eq!(
            (s(&l.vhost), l.server_port, s(&l.remote_user)),
            (None, None, None)
        );
    }
    // matomo-org/matomo-log-analytics tests/logs/haproxy.log: no header captures (no braces),
    // an SSL frontend (`~`).
    let l = owned(
        "haproxy",
        r#"Sep 25 06:05:27 hostname haproxy[6801]: 4.3.2.1:55008 [25/Sep/2018:06:05:27.584] ft_https~ bk_https/abc 0/0/0/72/72 200 7456 - - ---- 5/4/0/1/0 0/0 "POST /user/ HTTP/1.1""#,
    );
    assert_eq!(s(&l.remote_addr), Some("4.3.2.1"));
    assert_eq!(l.time.micros_utc, micros(2018, 9, 25, 6, 5, 27) + 584_000);
    assert_eq!(
        (s(&l.request_method), s(&l.request_path), l.status),
        (Some("POST"), Some("/user/"), Some(200))
    );
    assert_eq!(l.body_bytes_sent, Some(7456));
    assert!(close(l.request_time, 0.072) && close(l.upstream_response_time, 0.072));
    // The manual's "8.8. Capturing HTTP headers": second-resolution date (1.2-era), logasap
    // `+` before Ta and bytes, headers with `|` inside, a proxy's absolute URL cut short.
    let l = owned(
        "haproxy",
        r#"Aug  9 20:26:09 localhost haproxy[2022]: 127.0.0.1:34014 [09/Aug/2004:20:26:09] proxy-out proxy-out/cache1 0/0/0/162/+162 200 +350 - - ---- 0/0/0/0/0 0/0 {fr.adserver.yahoo.co||http://fr.f416.mail.} {|864|private||} "GET http://fr.adserver.yahoo.com/""#,
    );
    assert_eq!(l.time.micros_utc, micros(2004, 8, 9, 20, 26, 9));
    assert!(close(l.request_time, 0.162));
    assert_eq!(l.body_bytes_sent, Some(350));
    assert_eq!(
        (
            s(&l.request_method),
            s(&l.request_path),
            s(&l.vhost),
            s(&l.request_protocol)
        ),
        (Some("GET"), Some("/"), Some("fr.adserver.yahoo.com"), None)
    );
    // "8.9. Examples of logs" (the syslog part removed, as there): an aborted request, status
    // -1, timers never reached; a failed connection with retries.
    let l = owned(
        "haproxy",
        r#"haproxy[18113]: 127.0.0.1:34548 [15/Oct/2003:15:18:55.798] px-http px-http/<NOSRV> -1/-1/-1/-1/8490 -1 0 - - CR-- 2/2/2/0/0 0/0 """#,
    );
    assert_eq!((l.status, l.body_bytes_sent), (None, Some(0)));
    assert!(close(l.request_time, 8.49));
    assert_eq!(
        (l.upstream_response_time, s(&l.request_method)),
        (None, None)
    );
    let l = owned(
        "haproxy",
        r#"haproxy[18989]: 10.0.0.1:34552 [15/Oct/2003:15:26:31.462] px-http px-http/srv1 3183/-1/-1/-1/11215 503 0 - - SC-- 205/202/202/115/3 0/0 "HEAD / HTTP/1.0""#,
    );
    assert_eq!((l.status, s(&l.request_method)), (Some(503), Some("HEAD")));
    assert!(close(l.request_time, 11.215));
    assert_eq!(l.upstream_response_time, None);
    // The same section's TCP-mode session, the manual's "8.2.5. Error log format" example and
    // HAProxy's start-up message share the stream: no requests, skipped.
    let tcp = r#"haproxy[18989]: 127.0.0.1:34550 [15/Oct/2003:15:24:28.312] px-tcp px-tcp/srv1 0/0/5007 0 cD 0/0/0/0/0 0/0"#;
    for other in [
        tcp,
        "Dec  3 18:27:14 localhost haproxy[6103]: 127.0.0.1:56059 [03/Dec/2012:17:35:10.380] frt/f1: Connection error during SSL handshake",
        "Feb  6 12:12:09 localhost haproxy[14385]: Proxy http-in started.",
        "<133>1 2026-12-03T10:00:00+00:00 lb haproxy 7 - - Server static/srv1 is DOWN, reason: Layer4 connection problem",
    ] {
        assert_eq!(parse("haproxy", other.as_bytes()), Parsed::Skip, "{other}");
    }
    // Another program's line, or a TCP line gone wrong, is a reject that says what it is.
    let why = reason(
        "haproxy",
        b"Feb  6 12:12:09 localhost sshd[812]: Accepted publickey",
    );
    assert!(
        why.starts_with("haproxy: invalid client_ip:client_port \"Accepted\" at byte 37"),
        "{why}"
    );
    let why = reason("haproxy", format!("{tcp} extra").as_bytes());
    assert!(
        why.starts_with("haproxy: a TCP log line (option tcplog): timers Tw/Tc/Tt \"0/0/5007\""),
        "{why}"
    );
}

#[test]
fn haproxy_variants() {
    // The manual's example rewritten as HAProxy's `log … format rfc5424` sends it (RFC 5424
    // header, no structured data), as `format raw` writes it, and with a structured-data
    // element and an rsyslog high-precision timestamp.
    let message = &HAPROXY_DOC[HAPROXY_DOC.find("10.0.1.2").unwrap()..];
    for line in [
        format!("<134>1 2009-02-06T12:14:14.655+01:00 localhost haproxy 14389 - - {message}"),
        message.to_owned(),
        format!(
            "<134>1 2009-02-06T12:14:14.655+01:00 lb-1 haproxy 14389 - [meta x=\"a\\]b\"] {message}"
        ),
        format!("2009-02-06T12:14:14.655123+01:00 lb-1 haproxy[14389]: {message}"),
    ] {
        let l = owned("haproxy", &line);
        assert_eq!(
            (s(&l.remote_addr), l.status, l.body_bytes_sent),
            (Some("10.0.1.2"), Some(200), Some(2750)),
            "{line}"
        );
        assert_eq!(l.time.micros_utc, micros(2009, 2, 6, 12, 14, 14) + 655_000);
    }
    // A request HAProxy could not parse: a row with its status, no method or path.
    let bad = HAPROXY_DOC
        .replace(
            "static/srv1 10/0/30/69/109 200 2750",
            "http-in/<NOSRV> -1/-1/-1/-1/0 400 187",
        )
        .replace(r#""GET /index.html HTTP/1.1""#, r#""<BADREQ>""#);
    let l = owned("haproxy", &bad);
    assert_eq!((l.status, l.body_bytes_sent), (Some(400), Some(187)));
    assert_eq!(
        (
            s(&l.request_method),
            s(&l.request_path),
            s(&l.request_protocol)
        ),
        (None, None, None)
    );
    // `"` and `#` inside the request are written #22 and #23; syslog-ng may write `\"`.
    let l = owned(
        "haproxy",
        &HAPROXY_DOC.replace("/index.html", "/q?a=#22x#22&b=#23"),
    );
    assert_eq!(s(&l.request_path), Some("/q?a=\"x\"&b=#"));
    let l = owned(
        "haproxy",
        &HAPROXY_DOC.replace("/index.html", r#"/q?a=\"x\""#),
    );
    assert_eq!(s(&l.request_path), Some("/q?a=\"x\""));
    // A request cut at syslog's line limit keeps what arrived.
    let cut = &HAPROXY_DOC[..HAPROXY_DOC.len() - " HTTP/1.1\"".len()];
    let l = owned("haproxy", cut);
    assert_eq!(
        (s(&l.request_path), s(&l.request_protocol)),
        (Some("/index.html"), None)
    );
    // IPv6 clients are written without brackets; retries redispatched carry a `+`.
    let l = owned(
        "haproxy",
        &HAPROXY_DOC
            .replace("10.0.1.2:33317", "2001:db8::7:33317")
            .replace("1/1/1/1/0", "1/1/1/1/+3"),
    );
    assert_eq!(s(&l.remote_addr), Some("2001:db8::7"));
    // Malformed fields are rejects naming the format and the field.
    for (broken, want) in [
        (
            HAPROXY_DOC.replace("[06/Feb/2009:12:14:14.655]", "[06/Foo/2009:12:14:14.655]"),
            "haproxy: invalid accept_date \"06/Foo/2009:12:14:14.655\"",
        ),
        (
            HAPROXY_DOC.replace("10/0/30/69/109", "10/0/30/69/x"),
            "haproxy: invalid TR/Tw/Tc/Tr/Ta \"10/0/30/69/x\"",
        ),
        (
            HAPROXY_DOC.replace(" 200 2750", " 2x0 2750"),
            "haproxy: invalid status_code \"2x0\"",
        ),
        (
            HAPROXY_DOC.replace("{1wt.eu} {}", "{1wt.eu}{}"),
            "haproxy: expected ' ' after the captured headers",
        ),
        (
            format!("{HAPROXY_DOC} extra"),
            "haproxy: unexpected text after http_request",
        ),
        (
            HAPROXY_DOC.replace("1/1/1/1/0 0/0", "1/1/1/1/0"),
            "haproxy: invalid srv_queue/backend_queue \"{1wt.eu}\"",
        ),
    ] {
        let why = reason("haproxy", broken.as_bytes());
        assert!(why.starts_with(want), "{why}\n  wanted {want}");
    }
}

/// The Squid wiki's native access.log example (the one its log-format page explains).
pub(super) const SQUID_WIKI: &str = "1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://www.google.com/ - DIRECT/173.194.37.104 text/html";

#[test]
fn squid_native_access_log() {
    for name in ["squid", "squid-native"] {
        let l = owned(name, SQUID_WIKI);
        assert_eq!(l.time.micros_utc, micros(2010, 10, 8, 11, 11, 48) + 779_000);
        assert_eq!(
            (l.time.local_hour, s(&l.remote_addr)),
            (11, Some("192.168.0.224"))
        );
        assert!(close(l.request_time, 0.18));
        assert_eq!(
            (s(&l.cache_status), l.status, l.body_bytes_sent),
            (Some("TCP_MISS"), Some(200), Some(411))
        );
        assert_eq!(
            (s(&l.request_method), s(&l.request_path), s(&l.vhost)),
            (Some("GET"), Some("/"), Some("www.google.com"))
        );
        assert_eq!(
            (l.request_protocol.as_deref(), l.remote_user.as_deref()),
            (None, None)
        );
    }
    // `docker logs` of a Squid container in a snap's README (found by code search): a tunnel.
    let l = owned(
        "squid",
        "1729879108.361   2812 172.17.0.1 TCP_TUNNEL/200 5435 CONNECT example.com:443 - HIER_DIRECT/93.184.215.14 -",
    );
    assert_eq!(
        l.time.micros_utc,
        micros(2024, 10, 25, 17, 58, 28) + 361_000
    );
    assert_eq!(
        (s(&l.request_method), s(&l.request_path)),
        (Some("CONNECT"), Some("example.com:443"))
    );
    assert_eq!(
        (s(&l.vhost), l.server_port),
        (Some("example.com"), Some(443))
    );
    assert!(close(l.request_time, 2.812));
    assert_eq!(
        (s(&l.cache_status), l.status, l.body_bytes_sent),
        (Some("TCP_TUNNEL"), Some(200), Some(5435))
    );
    // A forward-proxy lab's `tail -f access.log` (found by code search): Squid 6, an IPv6 peer.
    let l = owned(
        "squid",
        "1752030357.582     12 10.200.123.141 TCP_MISS_ABORTED/503 4019 GET http://ipv6.msftconnecttest.com/connecttest.txt - HIER_DIRECT/2600:1407:b800::6872:4fd0 text/html",
    );
    assert_eq!(
        (s(&l.request_path), s(&l.vhost), l.status),
        (
            Some("/connecttest.txt"),
            Some("ipv6.msftconnecttest.com"),
            Some(503)
        )
    );
    // Constructed per Squid's docs: a connection closed before any request (NONE, 000) and an
    // authenticated user.
    let l = owned(
        "squid",
        "1752030357.600      0 10.200.123.141 NONE_NONE/000 0 NONE error:transaction-end-before-headers - HIER_NONE/- -",
    );
    assert_eq!(
        (l.status, s(&l.request_method), s(&l.request_path)),
        (None, None, None)
    );
    let l = owned("squid", &SQUID_WIKI.replace(" - DIRECT", " alice DIRECT"));
    assert_eq!(s(&l.remote_user), Some("alice"));
    for (broken, want) in [
        (
            SQUID_WIKI.replace("TCP_MISS/200", "TCP_MISS-200"),
            "squid: invalid code/status \"TCP_MISS-200\" at byte 36",
        ),
        (
            SQUID_WIKI.replace("1286536308.779", "1286536308,779"),
            "squid: invalid time \"1286536308,779\" at byte 0",
        ),
        (
            SQUID_WIKI.replace(" 411 ", " 4k "),
            "squid: invalid bytes \"4k\" at byte 49",
        ),
        (
            SQUID_WIKI.replace(" text/html", ""),
            "squid: line ends before type at byte 103: 9 of the native format's 10 fields",
        ),
    ] {
        assert_eq!(reason("squid", broken.as_bytes()), want, "{broken}");
    }
}

/// A kanjiapi.dev usage-log reader's test (found by code search): GCS's header and two rows.
pub(super) const GCS_HEADER: &str = r#""time_micros","c_ip","c_ip_type","c_ip_region","cs_method","cs_uri","sc_status","cs_bytes","sc_bytes","time_taken_micros","cs_host","cs_referer","cs_user_agent","s_request_id","cs_operation","cs_bucket","cs_object""#;
pub(super) const GCS_ROWS: [&str; 2] = [
    r#""1693206014339368","172.71.142.38","1","","GET","/v1/kanji/%E9%9B%86","200","0","277","488000","kanjiapi.dev","http://127.0.0.1:59961/","Mozilla/5.0 (Windows NT 6.2; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) QtWebEngine/6.4.3 Chrome/102.0.5005.177 Safari/537.36","ADPycduvHuLfdAtc-f-Uyl-AONU9elsqMfPUaul2F0vpty_e_YDJ67AKrjeB3_60LKULw_l50awy-M8UxjCnP4bhuWx7","GET_Object","kanjiapi.dev","v1/kanji/集""#,
    r#""1693206098543049","172.70.210.203","1","","GET","/v1/kanji/%E5%85%88","404","0","0","164000","kanjiapi.dev","http://127.0.0.1:51912/","Mozilla/5.0 (Windows NT 6.2; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) QtWebEngine/6.4.3 Chrome/102.0.5005.177 Safari/537.36","ADPycdumQl2rdAAOwaNQez9Ckrf6z1og-YMJfzF2ksCJ6OXNqJ8g-z2E3j_YgVEs10OYS3Rd6B1qTU1-ccjrF-0_zDGbcA","GET_Object","kanjiapi.dev","v1/kanji/先""#,
];

#[test]
fn gcs_usage_logs() {
    let format = Format::compile("gcs").unwrap();
    let mut p = format.parser(None);
    assert_eq!(
        p.parse(GCS_HEADER.as_bytes()),
        Parsed::Skip,
        "the header row"
    );
    let Parsed::Row(l) = p.parse(GCS_ROWS[0].as_bytes()) else {
        panic!("a row")
    };
    assert_eq!(l.time.micros_utc, micros(2023, 8, 28, 7, 0, 14) + 339_368);
    assert_eq!(
        (l.time.local_hour, s(&l.remote_addr)),
        (7, Some("172.71.142.38"))
    );
    assert_eq!(
        (
            s(&l.request_method),
            s(&l.request_path),
            l.request_protocol.as_deref()
        ),
        (Some("GET"), Some("/v1/kanji/%E9%9B%86"), None)
    );
    assert_eq!(
        (l.status, l.request_length, l.body_bytes_sent),
        (Some(200), Some(0), Some(277))
    );
    assert!(close(l.request_time, 0.488));
    assert_eq!(s(&l.vhost), Some("kanjiapi.dev"));
    assert_eq!(s(&l.http_referer), Some("http://127.0.0.1:59961/"));
    assert_eq!(
        s(&l.http_user_agent),
        Some(
            "Mozilla/5.0 (Windows NT 6.2; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) QtWebEngine/6.4.3 Chrome/102.0.5005.177 Safari/537.36"
        )
    );
    assert_eq!(
        p.state(),
        Some(&*format!(
            "#Fields: {}",
            GCS_HEADER.replace('"', "").replace(',', " ")
        ))
    );
    // A parser resumed past the header (no state, or the saved one) reads the rows alike.
    for state in [None, p.state().map(str::to_owned)] {
        let mut resumed = format.parser(state.as_deref());
        let Parsed::Row(l) = resumed.parse(GCS_ROWS[1].as_bytes()) else {
            panic!("a row")
        };
        assert_eq!((l.status, l.body_bytes_sent), (Some(404), Some(0)));
        assert!(close(l.request_time, 0.164));
    }
    // Commas and doubled quotes inside quoted values (RFC 4180, as GCS writes them).
    let l = owned(
        "gcs",
        &GCS_ROWS[0].replace(
            "\"http://127.0.0.1:59961/\"",
            "\"https://example.com/a,b?q=\"\"x\"\"\"",
        ),
    );
    assert_eq!(s(&l.http_referer), Some("https://example.com/a,b?q=\"x\""));
    for (broken, want) in [
        (
            GCS_ROWS[0].replace("\"200\"", "\"2OO\""),
            "gcs: invalid sc_status \"2OO\" at byte 70",
        ),
        (
            GCS_ROWS[0].replace("\"488000\"", "\"488000\"x"),
            "gcs: expected ',' after the quoted value at byte 94",
        ),
        (
            GCS_ROWS[0].replace(",\"v1/kanji/集\"", ""),
            "gcs: 16 columns where the header row names 17 at byte 394",
        ),
    ] {
        assert_eq!(reason("gcs", broken.as_bytes()), want, "{broken}");
    }
}

#[test]
fn cloudfront_rtmp_streaming_logs() {
    // AWS's documented RTMP distribution log (its "Fields in RTMP distribution logs" example,
    // tab-separated); Matomo's test of the same lines expects the agent `LNX 10,0,32,18` and
    // 3914 bytes for the second.
    let text = "#Version: 1.0\n#Fields: date time x-edge-location c-ip x-event sc-bytes x-cf-status x-cf-client-id cs-uri-stem cs-uri-query c-referrer x-page-url c-user-agent x-sname x-sname-query x-file-ext x-sid\n\
2010-03-12\t23:51:20\tSEA4\t192.0.2.147\tconnect\t2014\tOK\tbfd8a98bee0840d9b871b7f6ade9908f\trtmp://shqshne4jdp4b6.cloudfront.net/cfx/st\tkey=value\thttp://player.longtailvideo.com/player.swf\thttp://www.longtailvideo.com/support/jw-player-setup-wizard?example=204\tLNX%2010,0,32,18\t-\t-\t-\t-\n\
2010-03-12\t23:51:21\tSEA4\t192.0.2.222\tplay\t3914\tOK\tbfd8a98bee0840d9b871b7f6ade9908f\trtmp://shqshne4jdp4b6.cloudfront.net/cfx/st\tkey=value\thttp://player.longtailvideo.com/player.swf\thttp://www.longtailvideo.com/support/jw-player-setup-wizard?example=204\tLNX%2010,0,32,18\tmyvideo\tp=2&q=4\tflv\t1\n";
    let parsed = parse_file("cloudfront", text);
    let Parsed::Row(r) = &parsed[3] else {
        panic!("{parsed:?}")
    };
    assert_eq!(r.remote_addr.as_deref(), Some("192.0.2.222"));
    assert_eq!(r.body_bytes_sent, Some(3914));
    assert_eq!(r.http_user_agent.as_deref(), Some("LNX 10,0,32,18"));
    assert_eq!(
        r.http_referer.as_deref(),
        Some("http://player.longtailvideo.com/player.swf")
    );
    assert_eq!(
        r.request_path.as_deref(),
        Some("rtmp://shqshne4jdp4b6.cloudfront.net/cfx/st?key=value")
    );
}
