//! nginx `log_format`: the bare format string, or a pasted directive
//! `log_format name [escape=default|json|none] '…' '…';` whose pieces nginx concatenates.

use std::sync::Arc;

use super::slots::{Decode, Var};
use super::template::{Field, Seg, Shape, Template};
use super::{Format, Kind, json};

pub(super) const NAME: &str = "nginx log_format";

pub(super) fn looks_like(spec: &str) -> bool {
    spec.starts_with("log_format")
        || spec
            .as_bytes()
            .windows(2)
            .any(|w| w[0] == b'$' && (w[1].is_ascii_alphabetic() || w[1] == b'_' || w[1] == b'{'))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Escape {
    Default,
    Json,
    None,
}

pub(super) fn compile(spec: &str) -> Result<Format, String> {
    let (text, escape) = unwrap_directive(spec)?;
    let json_like = {
        let t = text.trim();
        t.starts_with('{') && t.ends_with('}')
    };
    if escape == Escape::Json || json_like {
        let template = json::JsonTemplate::compile(&text, NAME)?;
        return Ok(Format {
            name: NAME.into(),
            kind: Kind::Json(Arc::new(template)),
        });
    }
    let decode = if escape == Escape::None {
        Decode::None
    } else {
        Decode::Backslash
    };
    let template = Template::new(segments(&text, decode, &[])?);
    check(&template, NAME)?;
    Ok(Format {
        name: NAME.into(),
        kind: Kind::Template(Arc::new(template)),
    })
}

/// A format must be able to yield a time and a request, or no line could ever be a row.
pub(super) fn check(t: &Template, name: &str) -> Result<(), String> {
    let fields: Vec<&Field> = t.fields().collect();
    if !fields.iter().any(|f| f.var.is_time()) {
        return Err(format!(
            "{name}: no time field ($time_local, $time_iso8601, $msec, %t or %{{…}}t): no line could be stored"
        ));
    }
    if !fields.iter().any(|f| f.var.is_request()) {
        return Err(format!(
            "{name}: no request field ($request, $request_uri, $uri, $request_method, %r, %U or %m): no line could be stored"
        ));
    }
    Ok(())
}

/// The format text of a directive (pieces joined) or of a bare string, and its escaping.
fn unwrap_directive(spec: &str) -> Result<(String, Escape), String> {
    let trimmed = spec.trim();
    let pasted = trimmed.starts_with("log_format") || trimmed.starts_with('\'');
    // As nginx reads its configuration: `#` outside quotes starts a comment.
    let uncommented = if pasted {
        strip_comments(trimmed)
    } else {
        trimmed.to_owned()
    };
    let mut rest = uncommented.trim();
    let directive = rest
        .strip_prefix("log_format")
        .filter(|r| r.starts_with(char::is_whitespace));
    let mut escape = Escape::Default;
    if let Some(r) = directive {
        rest = r.trim_start();
        let name_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[name_end..].trim_start();
        // `if=` belongs to access_log, but a pasted pair of lines may carry it: not the format.
        while let Some(r) = rest.strip_prefix("if=") {
            rest = r[r.find(char::is_whitespace).unwrap_or(r.len())..].trim_start();
        }
        if let Some(r) = rest.strip_prefix("escape=") {
            let end = r.find(char::is_whitespace).unwrap_or(r.len());
            escape = match &r[..end] {
                "default" => Escape::Default,
                "json" => Escape::Json,
                "none" => Escape::None,
                other => {
                    return Err(format!(
                        "{NAME}: unknown escape={other} (default, json or none)"
                    ));
                }
            };
            rest = r[end..].trim_start();
        }
    } else if !rest.starts_with('\'') {
        return Ok((rest.to_owned(), escape));
    }
    let rest = rest.trim_end().trim_end_matches(';');
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                let quote = c;
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some('t') => out.push('\t'),
                            Some('n') => out.push('\n'),
                            Some('r') => out.push('\r'),
                            Some(c) if c == quote || c == '\\' => out.push(c),
                            Some(c) => {
                                out.push('\\');
                                out.push(c);
                            }
                            None => out.push('\\'),
                        },
                        c if c == quote => {
                            closed = true;
                            break;
                        }
                        c => out.push(c),
                    }
                }
                if !closed {
                    return Err(format!(
                        "{NAME}: unterminated {quote}…{quote} piece in the directive"
                    ));
                }
            }
            c if c.is_whitespace() => {}
            c => {
                // An unquoted piece runs to the next whitespace.
                out.push(c);
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    out.push(c);
                    chars.next();
                }
            }
        }
    }
    Ok((out, escape))
}

/// `text` without its `#` comments: from a `#` outside quotes to the end of its line.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                out.push(c);
                out.extend(chars.next());
                continue;
            }
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '#') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// What an extra (preset-only) field is, and how it is delimited.
pub(super) type Extra<'x> = (&'x str, Var, Shape);

/// Split a format string into literals and fields. `extra`: preset-only names, written
/// `${name}` and shown without the `$`.
pub(super) fn segments(
    text: &str,
    decode: Decode,
    extra: &[Extra<'_>],
) -> Result<Vec<Seg>, String> {
    let b = text.as_bytes();
    let mut segs = Vec::new();
    let mut lit = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            lit.push(b[i]);
            i += 1;
            continue;
        }
        let (name, next) = if b.get(i + 1) == Some(&b'{') {
            match text[i + 2..].find('}') {
                Some(end) => (&text[i + 2..i + 2 + end], i + 3 + end),
                None => return Err(format!("{NAME}: '${{' without '}}' at byte {i}")),
            }
        } else {
            let n = b[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            (&text[i + 1..i + 1 + n], i + 1 + n)
        };
        if name.is_empty() {
            lit.push(b'$');
            i += 1;
            continue;
        }
        segs.push(Seg::Lit {
            text: std::mem::take(&mut lit).into_boxed_slice(),
            end_after: None,
        });
        let field = match extra.iter().find(|(n, ..)| *n == name) {
            Some((n, var, shape)) => Field {
                name: (*n).into(),
                var: var.clone(),
                decode,
                shape: *shape,
            },
            None => {
                let (var, shape) = variable(name);
                Field {
                    name: format!("${name}").into(),
                    var,
                    decode,
                    shape,
                }
            }
        };
        segs.push(Seg::Field(field));
        i = next;
    }
    segs.push(Seg::Lit {
        text: lit.into_boxed_slice(),
        end_after: None,
    });
    prefer_body_bytes(&mut segs, "$bytes_sent");
    Ok(segs)
}

/// With both a body byte count and a total (headers included), keep the body's.
pub(super) fn prefer_body_bytes(segs: &mut [Seg], total_name: &str) {
    let is_bytes = |s: &Seg| matches!(s, Seg::Field(f) if matches!(f.var, Var::BodyBytes { .. }));
    let has_body = segs
        .iter()
        .any(|s| is_bytes(s) && !matches!(s, Seg::Field(f) if &*f.name == total_name));
    if has_body {
        for s in segs.iter_mut() {
            if let Seg::Field(f) = s
                && &*f.name == total_name
            {
                f.var = Var::Skip;
            }
        }
    }
}

const TOKEN: Shape = Shape::Token { stop: b' ' };

/// An nginx variable's meaning. Unknown variables are consumed and not stored.
pub(super) fn variable(name: &str) -> (Var, Shape) {
    match name {
        "remote_addr" | "realip_remote_addr" | "proxy_protocol_addr" | "binary_remote_addr" => {
            (Var::RemoteAddr, Shape::List)
        }
        "remote_user" => (Var::RemoteUser, Shape::Text),
        "time_local" => (Var::TimeLocal, Shape::Words(2)),
        "time_iso8601" => (Var::TimeIso, TOKEN),
        "msec" => (Var::Epoch(1_000_000), TOKEN),
        "request" => (Var::Request, Shape::Words(3)),
        "request_method" => (Var::Method, TOKEN),
        "request_uri" => (Var::RequestUri, TOKEN),
        "uri" | "document_uri" => (Var::Path, TOKEN),
        "args" | "query_string" => (Var::Query, TOKEN),
        "server_protocol" => (Var::Protocol, TOKEN),
        "status" => (Var::Status, TOKEN),
        "body_bytes_sent" | "bytes_sent" => (
            Var::BodyBytes {
                dash_is_zero: false,
            },
            TOKEN,
        ),
        "http_referer" => (Var::Referer, Shape::Text),
        "http_user_agent" => (Var::UserAgent, Shape::Text),
        "http_x_forwarded_for" | "proxy_add_x_forwarded_for" => (Var::XForwardedFor, Shape::List),
        "host" | "server_name" | "http_host" => (Var::Vhost, TOKEN),
        "server_port" => (Var::ServerPort, TOKEN),
        "request_time" => (Var::RequestTime(1.0), TOKEN),
        "upstream_response_time" => (Var::UpstreamTime, Shape::List),
        "upstream_cache_status" => (Var::CacheStatus, TOKEN),
        "request_length" => (Var::RequestLength, TOKEN),
        "ssl_protocol" => (Var::SslProtocol, TOKEN),
        n if n.starts_with("upstream_") => (Var::Skip, Shape::List),
        n if n.starts_with("http_") || n.starts_with("sent_http_") || n.starts_with("cookie_") => {
            (Var::Skip, Shape::Text)
        }
        _ => (Var::Skip, TOKEN),
    }
}
