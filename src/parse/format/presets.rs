//! The formats servers ship with, by name.

use std::sync::Arc;

use super::fast::Fast;
use super::json::JsonTemplate;
use super::nginx::{self, Extra};
use super::slots::{Decode, Var};
use super::template::{Seg, Shape, Template};
use super::{Format, Kind, apache, w3c};

pub const PRESETS: &[&str] = &[
    "combined",
    "common",
    "vhost_combined",
    "nginx-main",
    "ingress-nginx",
    "traefik",
    "caddy",
    "traefik-json",
    "w3c",
    "aws-alb",
    "aws-elb",
    "aws-s3",
    "cloudfront",
    "haproxy",
    "squid",
    "gcs",
];

pub(super) const COMMON: &str =
    r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent"#;
pub(super) const COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;
const VHOST_COMBINED: &str = r#"%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i""#;
const INGRESS_TAIL: &str = " $request_length $request_time [$proxy_upstream_name] \
    [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length \
    $upstream_response_time $upstream_status $req_id";
const TRAEFIK_TAIL: &str = r#" ${requests-count} "${router}" "${backend-url}" ${duration}"#;

/// AWS's field names (docs: "Access log entries" for Application Load Balancers), in order.
const ALB: &str = r#"${type} ${time} ${elb} ${client:port} ${target:port} ${request_processing_time} ${target_processing_time} ${response_processing_time} ${elb_status_code} ${target_status_code} ${received_bytes} ${sent_bytes} "${request}" "${user_agent}" ${ssl_cipher} ${ssl_protocol} ${target_group_arn} "${trace_id}" "${domain_name}" "${chosen_cert_arn}" ${matched_rule_priority} ${request_creation_time} "${actions_executed}" "${redirect_url}" "${error_reason}" "${target:port_list}" "${target_status_code_list}" "${classification}" "${classification_reason}" ${conn_trace_id}"#;

/// Classic Load Balancer (docs: "Access logs for your Classic Load Balancer"): no leading type,
/// `backend` where ALB says `target`. Lines before 2015 end after the request.
const ELB: &str = r#"${time} ${elb} ${client:port} ${backend:port} ${request_processing_time} ${backend_processing_time} ${response_processing_time} ${elb_status_code} ${backend_status_code} ${received_bytes} ${sent_bytes} "${request}" "${user_agent}" ${ssl_cipher} ${ssl_protocol}"#;

/// S3 server access logs (docs: "Amazon S3 server access log format"), in order.
const S3: &str = r#"${bucket_owner} ${bucket} [$time_local] $remote_addr ${requester} ${request_id} ${operation} ${key} "$request" $status ${error_code} ${bytes_sent} ${object_size} ${total_time} ${turnaround_time} "$http_referer" "$http_user_agent" ${version_id} ${host_id} ${signature_version} ${cipher_suite} ${authentication_type} ${host_header} ${tls_version} ${access_point_arn} ${acl_required}"#;

/// Fields S3 added over the years: a line may end after any of these.
const S3_ENDS_AFTER: &[&str] = &[
    "$http_user_agent",
    "version_id",
    "host_id",
    "signature_version",
    "cipher_suite",
    "authentication_type",
    "host_header",
    "tls_version",
    "access_point_arn",
];

/// Fields ALB added over the years: a line may end after any of these (older load balancers).
const ALB_ENDS_AFTER: &[&str] = &[
    "trace_id",
    "domain_name",
    "chosen_cert_arn",
    "matched_rule_priority",
    "request_creation_time",
    "actions_executed",
    "redirect_url",
    "error_reason",
    "target:port_list",
    "target_status_code_list",
    "classification",
    "classification_reason",
];

/// No spaces and no `"` (no value of these formats holds one): a line whose quoted user agent
/// holds `" a b"` and ends there is not read as the agent closed early and `b"` the last field.
const TOKEN: Shape = Shape::Token { stop: b'"' };

fn canonical(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase().replace('_', "-");
    let found = match n.as_str() {
        "clf" | "ncsa" => "common",
        "vhost-combined" | "vcombined" => "vhost_combined",
        "main" | "nginx" => "nginx-main",
        "ingress" | "nginx-ingress" | "upstreaminfo" => "ingress-nginx",
        "iis" | "w3c-extended" => "w3c",
        "alb" => "aws-alb",
        "elb" | "classic-elb" | "aws-classic-elb" => "aws-elb",
        "s3" => "aws-s3",
        "haproxy-http" | "httplog" => "haproxy",
        "squid-native" => "squid",
        "google-cloud-storage" | "gcs-usage" => "gcs",
        other => {
            return PRESETS
                .iter()
                .find(|p| p.replace('_', "-") == other)
                .copied();
        }
    };
    Some(found)
}

pub(super) fn preset(name: &str) -> Option<Format> {
    let name = canonical(name)?;
    let kind = match name {
        "combined" => {
            let mut t = nginx_template(COMBINED, &[]);
            // `combined` reads `common` lines too, as the parser before it did.
            let cut = after_field(&t, "$body_bytes_sent");
            t.allow_end(cut, 0);
            t.fast = Some(Fast::Combined);
            Kind::Template(Arc::new(t))
        }
        "common" => {
            let mut t = nginx_template(COMMON, &[]);
            t.fast = Some(Fast::Common);
            Kind::Template(Arc::new(t))
        }
        "vhost_combined" => {
            let segs = apache::segments(VHOST_COMBINED, name).unwrap_or_default();
            Kind::Template(Arc::new(Template::new(segs)))
        }
        "nginx-main" => {
            let text = format!(r#"{COMBINED} "$http_x_forwarded_for""#);
            Kind::Template(Arc::new(nginx_template(&text, &[])))
        }
        "ingress-nginx" => Kind::Template(Arc::new(nginx_template(
            &format!("{COMBINED}{INGRESS_TAIL}"),
            &[],
        ))),
        "traefik" => {
            let extra: &[Extra<'_>] = &[
                ("requests-count", Var::SkipCount, TOKEN),
                ("router", Var::Skip, Shape::Text),
                ("backend-url", Var::Skip, Shape::Text),
                ("duration", Var::MillisSuffix, TOKEN),
            ];
            Kind::Template(Arc::new(nginx_template(
                &format!("{COMBINED}{TRAEFIK_TAIL}"),
                extra,
            )))
        }
        "aws-alb" => Kind::Template(Arc::new(alb())),
        "aws-elb" => Kind::Template(Arc::new(classic_elb())),
        "aws-s3" => Kind::Template(Arc::new(s3())),
        "traefik-json" => Kind::Json(Arc::new(traefik_json())),
        "caddy" => Kind::Caddy,
        "w3c" => Kind::W3c(w3c::Flavor::W3c),
        "cloudfront" => Kind::W3c(w3c::Flavor::CloudFront),
        "haproxy" => Kind::Haproxy,
        "squid" => Kind::Squid,
        "gcs" => Kind::W3c(w3c::Flavor::Gcs),
        _ => return None,
    };
    Some(Format {
        name: name.into(),
        kind,
    })
}

fn nginx_template(text: &str, extra: &[Extra<'_>]) -> Template {
    Template::new(nginx::segments(text, Decode::Backslash, extra).unwrap_or_default())
}

/// The index of the segment after the field called `name`.
fn after_field(t: &Template, name: &str) -> usize {
    t.segs()
        .iter()
        .position(|s| matches!(s, Seg::Field(f) if &*f.name == name))
        .map_or(usize::MAX, |i| i + 1)
}

/// Traefik's access log with `format: json` (docs: "Access Logs", its field names); header
/// fields are there when `fields.headers` keeps them.
fn traefik_json() -> JsonTemplate {
    JsonTemplate::from_keys(&[
        ("ClientHost", "ClientHost", Var::RemoteAddr),
        ("ClientUsername", "ClientUsername", Var::RemoteUser),
        ("StartUTC", "StartUTC", Var::TimeIso),
        ("RequestMethod", "RequestMethod", Var::Method),
        ("RequestPath", "RequestPath", Var::RequestUri),
        ("RequestProtocol", "RequestProtocol", Var::Protocol),
        ("RequestHost", "RequestHost", Var::Vhost),
        ("DownstreamStatus", "DownstreamStatus", Var::Status),
        (
            "DownstreamContentSize",
            "DownstreamContentSize",
            Var::BodyBytes {
                dash_is_zero: false,
            },
        ),
        (
            "RequestContentSize",
            "RequestContentSize",
            Var::RequestLength,
        ),
        // Nanoseconds.
        ("Duration", "Duration", Var::RequestTime(1e-9)),
        ("TLSVersion", "TLSVersion", Var::SslProtocol),
        ("request_User-Agent", "request_User-Agent", Var::UserAgent),
        ("request_Referer", "request_Referer", Var::Referer),
        (
            "request_X-Forwarded-For",
            "request_X-Forwarded-For",
            Var::XForwardedFor,
        ),
    ])
}

fn s3() -> Template {
    let skip = |name| (name, Var::Skip, TOKEN);
    let extra: Vec<Extra<'_>> = vec![
        skip("bucket_owner"),
        skip("bucket"),
        skip("requester"),
        skip("request_id"),
        skip("operation"),
        skip("key"),
        skip("error_code"),
        ("bytes_sent", Var::BodyBytes { dash_is_zero: true }, TOKEN),
        ("object_size", Var::SkipCount, TOKEN),
        ("total_time", Var::RequestTime(1e-3), TOKEN),
        ("turnaround_time", Var::SkipCount, TOKEN),
        skip("version_id"),
        skip("host_id"),
        skip("signature_version"),
        skip("cipher_suite"),
        skip("authentication_type"),
        ("host_header", Var::Vhost, TOKEN),
        ("tls_version", Var::SslProtocol, TOKEN),
        skip("access_point_arn"),
        skip("acl_required"),
    ];
    // S3 writes values as they came, `-` for none.
    let mut t = Template::new(nginx::segments(S3, Decode::None, &extra).unwrap_or_default());
    for name in S3_ENDS_AFTER {
        let cut = after_field(&t, name);
        let quoted_end =
            matches!(t.segs().get(cut), Some(Seg::Lit { text, .. }) if text.starts_with(b"\" "));
        t.allow_end(cut, if quoted_end { 1 } else { 0 });
    }
    t
}

fn classic_elb() -> Template {
    let extra: Vec<Extra<'_>> = vec![
        ("time", Var::TimeIso, TOKEN),
        ("elb", Var::Skip, TOKEN),
        ("client:port", Var::AddrPort, TOKEN),
        ("backend:port", Var::Skip, TOKEN),
        ("request_processing_time", Var::AlbTime(0), TOKEN),
        ("backend_processing_time", Var::AlbTime(1), TOKEN),
        ("response_processing_time", Var::AlbTime(2), TOKEN),
        ("elb_status_code", Var::Status, TOKEN),
        ("backend_status_code", Var::SkipCount, TOKEN),
        ("received_bytes", Var::RequestLength, TOKEN),
        (
            "sent_bytes",
            Var::BodyBytes {
                dash_is_zero: false,
            },
            TOKEN,
        ),
        ("request", Var::Request, Shape::Text),
        ("user_agent", Var::UserAgent, Shape::Text),
        ("ssl_cipher", Var::Skip, TOKEN),
        ("ssl_protocol", Var::SslProtocol, TOKEN),
    ];
    let mut t = Template::new(nginx::segments(ELB, Decode::None, &extra).unwrap_or_default());
    // Older load balancers: the line ends at the request's or the user agent's closing quote.
    for name in ["request", "user_agent"] {
        let cut = after_field(&t, name);
        t.allow_end(cut, 1);
    }
    t
}

fn alb() -> Template {
    let q = Shape::Text;
    let extra: Vec<Extra<'_>> = vec![
        ("type", Var::Skip, TOKEN),
        ("time", Var::TimeIso, TOKEN),
        ("elb", Var::Skip, TOKEN),
        ("client:port", Var::AddrPort, TOKEN),
        ("target:port", Var::Skip, TOKEN),
        ("request_processing_time", Var::AlbTime(0), TOKEN),
        ("target_processing_time", Var::AlbTime(1), TOKEN),
        ("response_processing_time", Var::AlbTime(2), TOKEN),
        ("elb_status_code", Var::Status, TOKEN),
        ("target_status_code", Var::SkipCount, TOKEN),
        ("received_bytes", Var::RequestLength, TOKEN),
        (
            "sent_bytes",
            Var::BodyBytes {
                dash_is_zero: false,
            },
            TOKEN,
        ),
        ("request", Var::Request, q),
        ("user_agent", Var::UserAgent, q),
        ("ssl_cipher", Var::Skip, TOKEN),
        ("ssl_protocol", Var::SslProtocol, TOKEN),
        ("target_group_arn", Var::Skip, TOKEN),
        ("trace_id", Var::Skip, q),
        ("domain_name", Var::Skip, q),
        ("chosen_cert_arn", Var::Skip, q),
        ("matched_rule_priority", Var::SkipCount, TOKEN),
        ("request_creation_time", Var::Skip, TOKEN),
        ("actions_executed", Var::Skip, q),
        ("redirect_url", Var::Skip, q),
        ("error_reason", Var::Skip, q),
        ("target:port_list", Var::Skip, q),
        ("target_status_code_list", Var::Skip, q),
        ("classification", Var::Skip, q),
        ("classification_reason", Var::Skip, q),
        ("conn_trace_id", Var::Skip, TOKEN),
    ];
    // ALB writes values as they came (no backslash escaping of its own).
    let mut t = Template::new(nginx::segments(ALB, Decode::None, &extra).unwrap_or_default());
    for name in ALB_ENDS_AFTER {
        let cut = after_field(&t, name);
        // The literal after a quoted field starts with its closing quote: end after that.
        let quoted_end =
            matches!(t.segs().get(cut), Some(Seg::Lit { text, .. }) if text.starts_with(b"\" "));
        t.allow_end(cut, if quoted_end { 1 } else { 0 });
    }
    t
}
