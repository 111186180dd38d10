#!/usr/bin/env bash
# make fuzz: build the libFuzzer targets with coverage instrumentation (stable rustc flags, the
# ones cargo-fuzz passes with `--sanitizer none`) and fuzz them for FUZZ_SECONDS in all (default
# 60): `parse_format` (src/parse/format, every preset and formats compiled from fuzzed specs).
# Seeds: real lines
# from tests/fixtures plus a line of each preset and hostile shapes. A crash or a broken
# invariant stops the run, keeps the input under fuzz/artifacts/ and fails.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN=${FUZZ_SECONDS:-60}
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$HOME/.cache/weblog-target}/fuzz}
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps the instrumentation off build scripts (as cargo-fuzz does).
HOST=$(rustc -vV | sed -n 's/^host: //p')

cargo build --release --quiet --bin parse_format --target "$HOST"

SEEDS=$(mktemp -d)
trap 'rm -rf "$SEEDS"' EXIT
# Every 25th real line (400 seeds), then shapes the property tests also cover.
awk 'NR % 25 == 1 { f = sprintf("%s/real-%05d", dir, NR); printf "%s", $0 > f; close(f) }' \
    dir="$SEEDS" ../tests/fixtures/apache_logs
printf '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326' >"$SEEDS/common"
printf '::1 - u [29/Feb/2024:23:59:60 +1400] "GET /\\x22\\\\ HTTP/1.1" - - "-" "\\x1b[31m"\r' >"$SEEDS/escapes"
printf '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "\\x16\\x03\\x01" 400 0 "-" "-' >"$SEEDS/tls"
printf '1.2.3.4 - - [25/Apr/2021:06:15:33 +0000] "GET /?t=<script>alert("x")</script> HTTP/1.0" 404 1164' >"$SEEDS/probe"
printf '10.0.0.2, 10.0.0.1, 85.181.35.98 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Mozilla/5.0" "-"' >"$SEEDS/main"
printf 'site.example:443 10.1.1.2 - - [13/Jan/2018:19:31:17 +0000] "GET / HTTP/1.1" 200 1063 "-" "curl"' >"$SEEDS/vhost"
printf '10.244.0.1 - - [07/Oct/2026:15:15:32 +0000] "GET /app1 HTTP/1.1" 502 150 "-" "curl/8.9.0" 77 0.005 [default-app1-svc-80] [] 10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80 0, 0 : 17 0.001, - : 0.004 502, 502 : 200 f51dbea2bed647e177a90f37110b7058' >"$SEEDS/ingress"
printf '172.27.0.1 - - [11/Jan/2024:14:23:34 +0000] "GET / HTTP/1.1" 200 308 "-" "-" 1 "static@docker" "http://172.27.0.10:80" 0ms' >"$SEEDS/traefik"
printf 'caddy-1  | {"level":"info","ts":1726651920.3685553,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"1.2.3.4","client_ip":"1.2.3.4","proto":"HTTP/2.0","method":"GET","host":"foo.tld:443","uri":"/a?b","headers":{"User-Agent":["x"],"X-Forwarded-For":["5.6.7.8"]},"tls":{"version":772}},"duration":"1.5ms","size":0,"status":200}' >"$SEEDS/caddy"
printf '#Software: Microsoft Internet Information Services 10.0\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n2021-04-01 00:00:21 1.1.1.1 GET /foo - 80 - 2.2.2.2 Mozilla/5.0+(X11) - 200 0 0 65\n#Fields: date time c-ip cs-method cs-uri-stem sc-status\n2021-04-01 00:00:22 2.2.2.2 GET /bar 404' >"$SEEDS/w3c"
printf '#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken\n2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td1.cloudfront.net\t/index.html\t200\t-\tMozilla/5.0%%20(X11)\t-\t-\tHit\tSOX4==\twww.example.com\thttps\t23\t0.001' >"$SEEDS/cloudfront"
printf 'h2 2020-01-11T16:55:34.397124Z app/web/jf29 192.168.1.10:55753 192.168.1.123:32869 0.005 -1 0.000 301 - 35 290 "GET https://www.domain.name:443/i.png?v=5 HTTP/2.0" "Mozilla/5.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:x "Root=1" "www.domain.name" "arn:aws:y" 2 2020-01-11T16:55:34.384000Z "waf,forward" "-" "-" "192.168.1.123:32869" "301" "-" "-"' >"$SEEDS/alb"
# One real line of each newer preset: the first lines of its fixture, or the example of AWS's
# or Traefik's docs that src/parse/format/tests/presets.rs reads.
head -n 1 ../tests/fixtures/haproxy.log | tr -d '\n' >"$SEEDS/haproxy"
head -n 1 ../tests/fixtures/squid_access.log | tr -d '\n' >"$SEEDS/squid"
head -n 2 ../tests/fixtures/gcs_usage.csv | head -c -1 >"$SEEDS/gcs"
printf '%s' '2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000086 0.001048 0.001337 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.38.0" DHE-RSA-AES128-SHA TLSv1.2' >"$SEEDS/aws-elb"
printf '%s' '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be DOC-EXAMPLE-BUCKET1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /DOC-EXAMPLE-BUCKET1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader DOC-EXAMPLE-BUCKET1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes' >"$SEEDS/aws-s3"
printf '%s' '{"ClientAddr":"172.20.0.1:52458","ClientHost":"172.0.0.1","ClientPort":"52458","ClientUsername":"-","request_User-Agent":"Prometheus/2.40.5","request_Referer":"www.example.com","DownstreamContentSize":15,"DownstreamStatus":200,"Duration":10002425284,"OriginContentSize":15,"OriginDuration":10002302842,"OriginStatus":504,"Overhead":122442,"RequestAddr":"localhost","RequestContentSize":0,"RequestCount":1,"RequestHost":"localhost","RequestMethod":"GET","RequestPath":"/my/app/auth?id=1234&user=dude","RequestPort":"-","RequestProtocol":"HTTP/1.1","RequestScheme":"http","RetryAttempts":0,"RouterName":"my-router@file","ServiceAddr":"apache:80","ServiceName":"my-service@file","ServiceURL":{"Scheme":"http","Opaque":"","User":null,"Host":"apache:80","Path":"","RawPath":"","OmitHost":false,"ForceQuery":false,"RawQuery":"","Fragment":"","RawFragment":""},"StartLocal":"2023-08-11T11:39:21.773360139Z","StartUTC":"2023-08-11T11:39:21.773360139Z","entryPointName":"http","level":"info","msg":"","time":"2023-08-11T11:41:25Z"}' >"$SEEDS/traefik-json"
printf '$host:$server_port $remote_addr [$time_iso8601] $msec "$request_method $uri?$args $server_protocol" $status $request_time "$upstream_response_time"\nshop.example:8443 ::1 [2026-03-01T10:00:00+01:00] 1772355600.250 "GET /c?i=7 HTTP/2.0" 201 0.120 "0.050, 0.060"' >"$SEEDS/nginx-spec"
printf 'LogFormat "%%v %%a %%u [%%{%%d/%%b/%%Y:%%H:%%M:%%S}t.%%{msec_frac}t %%{%%z}t] \\"%%m %%U%%q %%H\\" %%>s %%b %%D %%{ms}T \\"%%{User-Agent}i\\"" x\nw.example 1.2.3.4 - [05/Mar/2026:23:59:59.042 -0500] "GET /q?x=1 HTTP/1.1" 200 - 2500 3 "curl"' >"$SEEDS/apache-spec"
printf "log_format j escape=json '{\"t\":\"\$time_iso8601\",\"r\":\"\$request\",\"s\":\$status}';\n{\"t\":\"2026-03-01T10:00:00Z\",\"r\":\"GET / HTTP/1.1\",\"s\":200}" >"$SEEDS/nginx-json"

fuzz() { # fuzz TARGET SECONDS
    local bin="$CARGO_TARGET_DIR/$HOST/release/$1"
    [ "$2" -gt 0 ] || return 0
    mkdir -p "corpus/$1" artifacts
    # -malloc_limit_mb: no single allocation may exceed it (a parser needs at most a few lines' worth).
    "$bin" "corpus/$1" "$SEEDS" -max_total_time="$2" -max_len=8192 \
        -rss_limit_mb=512 -malloc_limit_mb=64 -artifact_prefix=artifacts/ -print_final_stats=1 \
        2>"fuzz-$1.log" || { tail -n 40 "fuzz-$1.log" >&2; echo "fuzz: $1 failed; input kept in fuzz/artifacts/" >&2; exit 1; }
    local runs cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "fuzz-$1.log")
    cov=$(grep -o 'cov: [0-9]*' "fuzz-$1.log" | tail -n 1)
    echo "fuzz: $1 ran $runs executions in ${2}s ($cov edges), no crash, no broken invariant"
}
fuzz parse_format "$SECONDS_TO_RUN"
