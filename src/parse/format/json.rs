//! JSON access logs: nginx `escape=json` templates (keys mapped to the variables the template
//! puts there) and Caddy's structured access log. Values come out of serde_json owned, so these
//! rows allocate; text formats stay the fast path.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::nginx::variable;
use super::slots::{Decode, FieldError, Finish, Slots, Var, apply};
use super::time::{self, MAX_MICROS, MIN_MICROS};
use super::{Parsed, Reject};

/// Where each variable of an nginx JSON template sits in a line's object.
pub(super) struct JsonTemplate {
    keys: Vec<(Vec<String>, String, Var)>,
}

/// Marks a variable in the template so serde_json can parse it as an ordinary string.
const MARK: char = '\u{1}';

impl JsonTemplate {
    pub fn compile(text: &str, name: &str) -> Result<JsonTemplate, String> {
        let mut marked = String::with_capacity(text.len() + 32);
        let (mut in_string, mut escaped) = (false, false);
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if in_string && escaped {
                escaped = false;
                marked.push(c);
                continue;
            }
            match c {
                '\\' if in_string => {
                    escaped = true;
                    marked.push(c);
                }
                '"' => {
                    in_string = !in_string;
                    marked.push(c);
                }
                '$' => {
                    let rest = &text[i + 1..];
                    let (var, len) = if let Some(r) = rest.strip_prefix('{') {
                        match r.find('}') {
                            Some(end) => (&r[..end], end + 2),
                            None => ("", 0),
                        }
                    } else {
                        let n = rest
                            .bytes()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                            .count();
                        (&rest[..n], n)
                    };
                    if var.is_empty() {
                        marked.push('$');
                        continue;
                    }
                    while chars.next_if(|&(j, _)| j <= i + len).is_some() {}
                    let piece = format!("\\u0001{var}");
                    if in_string {
                        marked.push_str(&piece);
                    } else {
                        marked.push('"');
                        marked.push_str(&piece);
                        marked.push('"');
                    }
                }
                c => marked.push(c),
            }
        }
        let value: Value = serde_json::from_str(&marked)
            .map_err(|e| format!("{name}: the escape=json template is not a JSON object once its variables are filled in: {e}"))?;
        let mut keys = Vec::new();
        collect(&value, &mut Vec::new(), &mut keys);
        let t = JsonTemplate { keys };
        if !t.keys.iter().any(|(_, _, v)| v.is_time()) {
            return Err(format!(
                "{name}: no time variable ($time_local, $time_iso8601 or $msec): no line could be stored"
            ));
        }
        if !t.keys.iter().any(|(_, _, v)| v.is_request()) {
            return Err(format!(
                "{name}: no request variable ($request, $request_uri, $uri or $request_method): no line could be stored"
            ));
        }
        Ok(t)
    }

    /// A template for a JSON log whose keys are known (a preset): (key, shown as, variable).
    pub fn from_keys(keys: &[(&str, &str, Var)]) -> JsonTemplate {
        JsonTemplate {
            keys: keys
                .iter()
                .map(|(key, shown, var)| (vec![key.to_string()], shown.to_string(), var.clone()))
                .collect(),
        }
    }

    pub fn parse<'a>(&self, name: &str, line: &'a str) -> Parsed<'a> {
        let object = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(o)) => o,
            Ok(_) => return Parsed::Reject(Reject::new(name, "not a JSON object", Some(0))),
            Err(e) => return Parsed::Reject(Reject::new(name, &format!("not JSON: {e}"), Some(0))),
        };
        let mut slots = Slots::default();
        for (path, var_name, var) in &self.keys {
            let Some(value) = lookup(&object, path) else {
                continue;
            };
            let Some(text) = scalar(value) else { continue };
            if let Err(e) = apply(var, Decode::None, Cow::Owned(text.clone()), &mut slots) {
                return Parsed::Reject(value_reject(
                    name,
                    &format!("${var_name}"),
                    &path.join("."),
                    &text,
                    e,
                ));
            }
        }
        finish(name, slots, line)
    }
}

fn collect(v: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, String, Var)>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                path.push(k.clone());
                collect(v, path, out);
                path.pop();
            }
        }
        // Only a value that is exactly one variable can be mapped back.
        Value::String(s) if s.starts_with(MARK) && !s[1..].contains(MARK) => {
            let (var, _) = variable(&s[1..]);
            let var = match var {
                // A JSON body count is a number: `-` cannot occur, 0 stays 0.
                Var::BodyBytes { .. } => Var::BodyBytes {
                    dash_is_zero: false,
                },
                v => v,
            };
            out.push((path.clone(), s[1..].to_owned(), var));
        }
        _ => {}
    }
}

fn lookup<'v>(o: &'v Map<String, Value>, path: &[String]) -> Option<&'v Value> {
    let (first, rest) = path.split_first()?;
    let v = o.get(first)?;
    if rest.is_empty() {
        return Some(v);
    }
    match v {
        Value::Object(inner) => lookup(inner, rest),
        _ => None,
    }
}

/// A JSON scalar as the text a log variable would have had.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        // Display of an f64 never uses exponents: `1.2e-5` becomes `0.000012`, which the
        // decimal readers take.
        Value::Number(n) if n.is_f64() => n.as_f64().map(|f| f.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn value_reject(name: &str, field: &str, key: &str, text: &str, e: FieldError) -> Reject {
    let shown: String = text.chars().take(60).collect();
    let detail = match e {
        FieldError::Invalid => format!("invalid {field} \"{shown}\" in key \"{key}\""),
        FieldError::OutOfRange => format!("{field} \"{shown}\" in key \"{key}\" out of range"),
    };
    Reject::new(name, &detail, None)
}

fn finish<'a>(name: &str, slots: Slots<'a>, line: &'a str) -> Parsed<'a> {
    match slots.finish(line) {
        Ok(row) => Parsed::Row(row),
        Err(Finish::NoTime) => Parsed::Reject(Reject::new(name, "no time in line", None)),
        Err(Finish::TimeRange) => {
            Parsed::Reject(Reject::new(name, "time outside the years 1 to 9999", None))
        }
    }
}

/// Caddy's JSON access log (`"logger":"http.log.access…"`, `"msg":"handled request"`).
/// Other lines in the same stream (runtime logs) are skipped, not rejected.
pub(super) fn parse_caddy<'a>(name: &str, line: &'a str) -> Parsed<'a> {
    // `docker compose logs` prefixes each line with `service-1  | `.
    let json = match line.find('{') {
        Some(0) => line,
        Some(i) if line[..i].trim_end().ends_with('|') => &line[i..],
        _ => return Parsed::Reject(Reject::new(name, "not a JSON object", Some(0))),
    };
    let o = match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Parsed::Reject(Reject::new(name, "not a JSON object", Some(0))),
        Err(e) => return Parsed::Reject(Reject::new(name, &format!("not JSON: {e}"), Some(0))),
    };
    let str_of =
        |o: &Map<String, Value>, k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
    if str_of(&o, "msg").is_some_and(|m| m != "handled request")
        || str_of(&o, "logger").is_some_and(|l| !l.starts_with("http.log.access"))
    {
        return Parsed::Skip;
    }
    let Some(Value::Object(req)) = o.get("request") else {
        return Parsed::Reject(Reject::new(name, "no \"request\" object", None));
    };
    let mut s = Slots::default();
    let set =
        |key: &str, var: Var, value: Option<String>, s: &mut Slots<'a>| -> Result<(), Reject> {
            let Some(text) = value else { return Ok(()) };
            apply(&var, Decode::None, Cow::Owned(text.clone()), s)
                .map_err(|e| value_reject(name, key, key, &text, e))
        };
    let run = (|| {
        match o.get("ts") {
            Some(Value::Number(n)) => {
                let us = n.as_f64().map(|f| f * 1e6).filter(|us| us.is_finite());
                match us.map(|us| us.round() as i64) {
                    Some(us) if (MIN_MICROS..=MAX_MICROS).contains(&us) => {
                        s.time.epoch_us = Some(us)
                    }
                    _ => {
                        return Err(value_reject(
                            name,
                            "ts",
                            "ts",
                            &n.to_string(),
                            FieldError::OutOfRange,
                        ));
                    }
                }
            }
            Some(Value::String(t)) if !time::parse_iso(t.as_bytes(), &mut s.time) => {
                set("ts", Var::Epoch(1_000_000), Some(t.clone()), &mut s)?;
            }
            _ => {}
        }
        let client = str_of(req, "client_ip")
            .filter(|c| !c.is_empty())
            .or_else(|| str_of(req, "remote_ip"));
        set("request.client_ip", Var::RemoteAddr, client, &mut s)?;
        set("request.proto", Var::Protocol, str_of(req, "proto"), &mut s)?;
        set("request.method", Var::Method, str_of(req, "method"), &mut s)?;
        let host = str_of(req, "host");
        let (host, port) = match host.as_deref().and_then(|h| h.rsplit_once(':')) {
            Some((h, p)) if !h.contains(':') && p.bytes().all(|c| c.is_ascii_digit()) => {
                (Some(h.to_owned()), Some(p.to_owned()))
            }
            _ => (host, None),
        };
        set("request.host", Var::Vhost, host, &mut s)?;
        set("request.host", Var::ServerPort, port, &mut s)?;
        set("request.uri", Var::RequestUri, str_of(req, "uri"), &mut s)?;
        if let Some(Value::Object(h)) = req.get("headers") {
            let header = |want: &str| {
                h.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(want))
                    .and_then(|(_, v)| match v {
                        Value::Array(items) => {
                            let items: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                            (!items.is_empty()).then(|| items.join(", "))
                        }
                        Value::String(s) => Some(s.clone()),
                        _ => None,
                    })
            };
            set(
                "request.headers.User-Agent",
                Var::UserAgent,
                header("User-Agent"),
                &mut s,
            )?;
            set(
                "request.headers.Referer",
                Var::Referer,
                header("Referer"),
                &mut s,
            )?;
            set(
                "request.headers.X-Forwarded-For",
                Var::XForwardedFor,
                header("X-Forwarded-For"),
                &mut s,
            )?;
        }
        if let Some(Value::Object(tls)) = req.get("tls") {
            let version = match tls.get("version").and_then(Value::as_u64) {
                Some(0x0304) => Some("TLSv1.3"),
                Some(0x0303) => Some("TLSv1.2"),
                Some(0x0302) => Some("TLSv1.1"),
                Some(0x0301) => Some("TLSv1"),
                Some(0x0300) => Some("SSLv3"),
                _ => None,
            };
            set(
                "request.tls.version",
                Var::SslProtocol,
                version.map(str::to_owned),
                &mut s,
            )?;
        }
        let num = |k: &str| o.get(k).and_then(scalar);
        set("duration", Var::GoDuration, num("duration"), &mut s)?;
        set(
            "size",
            Var::BodyBytes {
                dash_is_zero: false,
            },
            num("size"),
            &mut s,
        )?;
        set("status", Var::Status, num("status"), &mut s)?;
        set("bytes_read", Var::RequestLength, num("bytes_read"), &mut s)?;
        set("user_id", Var::RemoteUser, str_of(&o, "user_id"), &mut s)?;
        Ok(())
    })();
    if let Err(r) = run {
        return Parsed::Reject(r);
    }
    finish(name, s, line)
}
