//! Apache `LogFormat`: the bare format string, or a pasted `LogFormat "…" nickname` line.

use std::sync::Arc;

use super::nginx::{check, prefer_body_bytes};
use super::slots::{Decode, Var};
use super::template::{Field, Seg, Shape, Template};
use super::time;
use super::{Format, Kind};

pub(super) const NAME: &str = "apache LogFormat";

const TOKEN: Shape = Shape::Token { stop: b' ' };

pub(super) fn looks_like(spec: &str) -> bool {
    spec.starts_with("LogFormat")
        || spec.as_bytes().windows(2).any(|w| {
            w[0] == b'%'
                && (w[1].is_ascii_alphabetic()
                    || matches!(w[1], b'{' | b'>' | b'<' | b'!' | b'0'..=b'9'))
        })
}

pub(super) fn compile(spec: &str) -> Result<Format, String> {
    let text = unwrap_directive(spec)?;
    let template = Template::new(segments(&text, NAME)?);
    check(&template, NAME)?;
    Ok(Format {
        name: NAME.into(),
        kind: Kind::Template(Arc::new(template)),
    })
}

/// The format of `LogFormat "…" [nickname]`, or a bare string with its config escapes undone
/// (`\"` is how a quote is written inside Apache's quoted format string).
fn unwrap_directive(spec: &str) -> Result<String, String> {
    let mut rest = spec.trim();
    if let Some(r) = rest
        .strip_prefix("LogFormat")
        .filter(|r| r.starts_with(char::is_whitespace))
    {
        rest = r.trim_start();
        let Some(body) = rest.strip_prefix('"') else {
            // `LogFormat %h…` without quotes: one word.
            return Ok(config_unescape(
                rest.split_whitespace().next().unwrap_or(""),
            ));
        };
        let mut end = None;
        let b = body.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'"' => {
                    end = Some(i);
                    break;
                }
                _ => i += 1,
            }
        }
        let Some(end) = end else {
            return Err(format!("{NAME}: the quoted format string is not closed"));
        };
        return Ok(config_unescape(&body[..end]));
    }
    Ok(config_unescape(rest))
}

fn config_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some(c) => {
                out.push('\\');
                out.push(c);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Split an Apache format into literals and fields; `name` is the format's name for errors.
pub(super) fn segments(text: &str, name: &str) -> Result<Vec<Seg>, String> {
    let b = text.as_bytes();
    let mut segs = Vec::new();
    let mut lit = Vec::new();
    let mut i = 0;
    let flush = |segs: &mut Vec<Seg>, lit: &mut Vec<u8>| {
        segs.push(Seg::Lit {
            text: std::mem::take(lit).into_boxed_slice(),
            end_after: None,
        })
    };
    while i < b.len() {
        if b[i] != b'%' {
            lit.push(b[i]);
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        if b.get(i) == Some(&b'%') {
            lit.push(b'%');
            i += 1;
            continue;
        }
        // Conditions (`%400,501{User-Agent}i`, `%!200a`) and `<`/`>` (original/final) only
        // decide whether Apache writes the value or `-`: both read the same.
        let mut arg = None;
        loop {
            match b.get(i) {
                Some(b'!' | b'0'..=b'9' | b',' | b'<' | b'>') => i += 1,
                Some(b'{') => {
                    let Some(end) = text[i + 1..].find('}') else {
                        return Err(format!("{name}: '%{{' without '}}' at byte {start}"));
                    };
                    arg = Some(&text[i + 1..i + 1 + end]);
                    i += end + 2;
                }
                _ => break,
            }
        }
        let Some(&d) = b.get(i).filter(|d| d.is_ascii()) else {
            return Err(format!(
                "{name}: no directive letter after '%' at byte {start}"
            ));
        };
        i += 1;
        let mut directive = (d as char).to_string();
        if d == b'^' {
            // `%{VAR}^ti` / `^to`: two more letters.
            let more = text.get(i..i + 2).unwrap_or("");
            directive.push_str(more);
            i += more.len();
        }
        let shown = &text[start..i];
        if d == b't' && arg.is_none() {
            // `%t` is `[10/Oct/2000:13:55:36 -0700]`, brackets included.
            lit.push(b'[');
            flush(&mut segs, &mut lit);
            segs.push(field(shown, Var::TimeLocal, Shape::Words(2)));
            lit.push(b']');
            continue;
        }
        flush(&mut segs, &mut lit);
        let (var, shape) = directive_var(&directive, arg, name)?;
        segs.push(field(shown, var, shape));
    }
    flush(&mut segs, &mut lit);
    // A strftime time followed by `.` is `%{…}t.%{msec_frac}t`: its seconds carry no fraction.
    for k in 0..segs.len() {
        let next_dot = matches!(segs.get(k + 1), Some(Seg::Lit { text, .. }) if text.first().is_some_and(|c| *c == b'.' || *c == b','));
        if let Seg::Field(Field {
            var: Var::Strftime(_, frac_ok),
            ..
        }) = &mut segs[k]
        {
            *frac_ok = !next_dot;
        }
    }
    prefer_body_bytes(&mut segs, "%O");
    Ok(segs)
}

fn field(name: &str, var: Var, shape: Shape) -> Seg {
    Seg::Field(Field {
        name: name.into(),
        var,
        decode: Decode::Backslash,
        shape,
    })
}

fn directive_var(d: &str, arg: Option<&str>, name: &str) -> Result<(Var, Shape), String> {
    let arg_lower = arg.map(str::to_ascii_lowercase);
    Ok(match (d, arg_lower.as_deref()) {
        ("h", _) | ("a", _) => (Var::RemoteAddr, Shape::List),
        ("l", _) => (Var::Skip, TOKEN),
        ("u", _) => (Var::RemoteUser, Shape::Text),
        ("t", Some(a)) => {
            let a = a
                .strip_prefix("begin:")
                .or_else(|| a.strip_prefix("end:"))
                .unwrap_or(a);
            match a {
                "sec" => (Var::Epoch(1_000_000), TOKEN),
                "msec" => (Var::Epoch(1000), TOKEN),
                "usec" => (Var::Epoch(1), TOKEN),
                "msec_frac" => (Var::Frac(3), TOKEN),
                "usec_frac" => (Var::Frac(6), TOKEN),
                _ => {
                    let raw = arg.unwrap_or("");
                    let raw = raw
                        .strip_prefix("begin:")
                        .or_else(|| raw.strip_prefix("end:"))
                        .unwrap_or(raw);
                    let items = time::compile_strftime(raw).map_err(|e| format!("{name}: {e}"))?;
                    let words = 1 + items.iter().filter(|i| **i == time::Strf::Space).count();
                    (
                        Var::Strftime(items, true),
                        Shape::Words(words.min(255) as u8),
                    )
                }
            }
        }
        ("r", _) => (Var::Request, Shape::Words(3)),
        ("m", _) => (Var::Method, TOKEN),
        ("U", _) => (Var::Path, TOKEN),
        ("q", _) => (Var::QueryMark, TOKEN),
        ("H", _) => (Var::Protocol, TOKEN),
        ("s", _) => (Var::Status, TOKEN),
        ("b", _) => (Var::BodyBytes { dash_is_zero: true }, TOKEN),
        ("B", _) | ("O", _) => (
            Var::BodyBytes {
                dash_is_zero: false,
            },
            TOKEN,
        ),
        ("I", _) => (Var::RequestLength, TOKEN),
        ("D", _) => (Var::RequestTime(1e-6), TOKEN),
        ("T", None | Some("s")) => (Var::RequestTime(1.0), TOKEN),
        ("T", Some("ms")) => (Var::RequestTime(1e-3), TOKEN),
        ("T", Some("us")) => (Var::RequestTime(1e-6), TOKEN),
        ("v", _) | ("V", _) => (Var::Vhost, TOKEN),
        ("p", None | Some("canonical") | Some("local")) => (Var::ServerPort, TOKEN),
        ("i", Some("referer")) => (Var::Referer, Shape::Text),
        ("i", Some("user-agent")) => (Var::UserAgent, Shape::Text),
        ("i", Some("x-forwarded-for")) => (Var::XForwardedFor, Shape::List),
        ("i", Some("host")) => (Var::Vhost, TOKEN),
        ("i", _) | ("o", _) | ("C", _) | ("n", _) => (Var::Skip, Shape::Text),
        ("e" | "x", Some("ssl_protocol")) => (Var::SslProtocol, TOKEN),
        _ => (Var::Skip, TOKEN),
    })
}
