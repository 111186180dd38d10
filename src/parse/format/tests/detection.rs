//! `auto`: each preset recognised from a file's first lines (the real lines of `presets`).

use super::super::detect;

fn detected(lines: &[&str]) -> String {
    let bytes: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    match detect(&bytes) {
        Ok(f) => f.name().to_owned(),
        Err(e) => panic!("{e}"),
    }
}

const COMBINED: &str = r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36""#;
const COMMON: &str = r#"10.0.0.1 - - [13/Jan/2016:19:31:16 +0000] "GET /wp-content/themes/darkmode/header.php?install2 HTTP/1.1" 200 494"#;

#[test]
fn every_preset_is_detected() {
    // tests/fixtures/apache_logs line 1; plaso apache_access.log line 1 (a common line).
    assert_eq!(detected(&[COMBINED, COMMON]), "combined");
    assert_eq!(detected(&[COMMON, COMMON]), "common");
    assert_eq!(
        detected(&[
            r#"plaso.log2timeline.net:443 10.1.1.2 - - [13/Jan/2018:19:31:17 +0000] "GET /wp-content/themes/darkmode/evil.php HTTP/1.1" 200 1063 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_8_2)""#
        ]),
        "vhost_combined"
    );
    assert_eq!(
        detected(&[
            r#"172.17.0.1 - - [10/Jul/2022:13:34:59 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/7.81.0" "-""#
        ]),
        "nginx-main"
    );
    assert_eq!(
        detected(&[
            r#"192.168.64.6 - - [27/Mar/2021:01:55:51 +0000] "GET /apple HTTP/1.1" 404 146 "-" "curl/7.64.1" 78 0.005 [upstream-default-backend] [] 127.0.0.1:8181 146 0.005 404 b8fce6c55c43933bba328d25f0f2400b"#
        ]),
        "ingress-nginx"
    );
    assert_eq!(
        detected(&[
            r#"172.27.0.1 - - [11/Jan/2024:14:23:34 +0000] "GET / HTTP/1.1" 200 308 "-" "-" 1 "static@docker" "http://172.27.0.10:80" 0ms"#
        ]),
        "traefik"
    );
    assert_eq!(
        detected(&[
            r#"{"level":"info","ts":1646861401.52,"logger":"tls.cache.maintenance","msg":"started background certificate maintenance"}"#,
            r#"{"level":"info","ts":1787707296.3399053,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"10.10.0.3","remote_port":"34560","client_ip":"10.10.0.3","proto":"HTTP/1.1","method":"GET","host":"stream.example","uri":"/videos/demo/v2/seg1.ts","headers":{"User-Agent":["curl/8.8.0"]}},"bytes_read":0,"user_id":"","duration":0.000453683,"size":2500000,"status":200}"#,
        ]),
        "caddy"
    );
    assert_eq!(
        detected(&[
            "#Software: Microsoft Internet Information Services 10.0",
            "#Version: 1.0",
            "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken",
        ]),
        "w3c"
    );
    assert_eq!(
        detected(&[
            r#"https 2020-01-11T16:55:20.356586Z app/production-web/jf29fj2198ejf922 192.168.1.10:44325 192.168.1.123:32869 0.013 0.164 0.000 200 200 391 107999 "GET https://www.domain.name:443/ HTTP/1.1" "Mozilla/5.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789123 "XXXXXXX" "www.domain.name" "arn:aws:abc:us-east-2:234567891234:certificate" 2 2020-01-11T16:55:19.624000Z "waf,forward" "-" "-" "192.168.1.123:32869" "200" "-" "-""#
        ]),
        "aws-alb"
    );
    // CloudFront by its header (claygregory/node-cloudfront-log-parser writes it with tabs)…
    assert_eq!(
        detected(&[
            "#Version:\t1.0",
            "#Fields:\tdate\ttime\tx-edge-location\tsc-bytes"
        ]),
        "cloudfront"
    );
    // …and without one, by its columns.
    assert_eq!(
        detected(&[
            "2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\t-\tcurl/7.55.1\t-\t-\tHit\tSOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\td111111abcdef8.cloudfront.net\thttps\t23\t0.001"
        ]),
        "cloudfront"
    );
}

#[test]
fn the_majority_decides() {
    // Two nginx-main lines and a stray combined one: nginx-main reads more.
    let main = r#"172.17.0.1 - - [10/Jul/2022:13:34:59 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/7.81.0" "-""#;
    assert_eq!(detected(&[COMBINED, main, main]), "nginx-main");
}

#[test]
fn a_file_no_preset_fits_names_the_closest() {
    let lines: [&[u8]; 2] = [
        b"Dec  1 22:51:04 host sshd[812]: Accepted publickey for root from 10.0.0.9 port 52144",
        br#"1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5 - -"#,
    ];
    let err = detect(&lines).err().unwrap();
    assert_eq!(
        err,
        "no known log format fits: closest is combined (0 of 2 lines), first mismatch in line 2: expected ' \"' before $http_referer at byte 63"
    );
    assert!(detect(&[]).is_err());
}

#[test]
fn haproxy_squid_and_gcs_are_detected() {
    use super::presets::{GCS_HEADER, GCS_ROWS, HAPROXY_DOC, SQUID_WIKI};
    assert_eq!(detected(&[HAPROXY_DOC]), "haproxy");
    assert_eq!(detected(&[SQUID_WIKI]), "squid");
    assert_eq!(detected(&[GCS_HEADER, GCS_ROWS[0], GCS_ROWS[1]]), "gcs");
    assert_eq!(detected(&[GCS_ROWS[1]]), "gcs", "without its header row");
    assert_eq!(detected(&[GCS_HEADER]), "gcs", "the header row alone");
}
