//! A compiled text format: literals and fields, matched left to right.
//!
//! Each field knows how far it reaches from its [`Shape`] and the literal after it, so no field
//! can swallow text that belongs to the next one. Only a quoted field has several candidate
//! ends: servers log unescaped quotes inside agents and scanner probes, so when what follows a
//! closing quote does not match, the next quote that could close the field is tried (bounded
//! by [`BACKTRACK_BUDGET`]). A line that matches in no way is rejected with the failure of its
//! most natural reading.

use std::borrow::Cow;

use memchr::{memchr, memchr2, memchr3, memmem};

use super::fast::{self, Fast};
use super::slots::{Decode, FieldError, Finish, Slots, Var, apply};
use super::{Parsed, Reject};

/// Quoted-field retries per line: real lines need one or two; this bounds hostile ones.
const BACKTRACK_BUDGET: u32 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// No spaces: ends at the first space, at the next literal, or at `stop`.
    Token { stop: u8 },
    /// This many space-separated words (`$time_local` is two).
    Words(u8),
    /// Items joined by `, ` or ` : ` (`$remote_addr` behind proxies, `$upstream_*`).
    List,
    /// Anything up to the next literal (or the end of the line).
    Text,
    /// Between `"` and `"`, escape-aware, with backtracking.
    Quoted,
}

#[derive(Clone, Debug)]
pub(super) struct Field {
    /// As written in the format, for messages: `$status`, `%>s`, `sc-status`.
    pub name: Box<str>,
    pub var: Var,
    pub decode: Decode,
    pub shape: Shape,
}

#[derive(Clone, Debug)]
pub(super) enum Seg {
    /// `end_after`: the line may end after this many bytes of the literal (later fields NULL),
    /// e.g. `common` lines under `combined`, or an older ALB line ending at a closing quote.
    Lit {
        text: Box<[u8]>,
        end_after: Option<usize>,
    },
    Field(Field),
}

#[derive(Debug)]
pub(super) struct Template {
    segs: Vec<Seg>,
    /// Set by the presets whose segments [`fast`] mirrors.
    pub fast: Option<Fast>,
    /// `memmem` finders for the literal after each field (indexed by segment).
    finders: Vec<Option<memmem::Finder<'static>>>,
}

#[derive(Clone, Copy, Debug)]
enum FailKind {
    Literal,
    Trailing,
    Invalid,
    OutOfRange,
    Unclosed,
    Missing,
}

#[derive(Clone, Copy, Debug)]
struct Failure {
    kind: FailKind,
    seg: usize,
    at: usize,
    end: usize,
}

struct Run<'a, 't> {
    t: &'t Template,
    line: &'a str,
    slots: Slots<'a>,
    budget: u32,
    fail: Option<Failure>,
}

impl Template {
    /// Segments as parsed from a format string; shapes are refined here from their context.
    pub fn new(mut segs: Vec<Seg>) -> Template {
        merge_literals(&mut segs);
        for i in 0..segs.len() {
            let prev_quote =
                i > 0 && matches!(&segs[i - 1], Seg::Lit { text, .. } if text.ends_with(b"\""));
            let next_quote =
                matches!(segs.get(i + 1), Some(Seg::Lit { text, .. }) if text.starts_with(b"\""));
            let next_var = match segs.get(i + 1) {
                Some(Seg::Field(f)) => Some(f.var.clone()),
                _ => None,
            };
            if let Seg::Field(f) = &mut segs[i] {
                if prev_quote && next_quote {
                    f.shape = Shape::Quoted;
                } else if let Shape::Token { stop } = &mut f.shape {
                    // Two fields side by side (`%U%q`, `$host$request_uri`): stop where the next begins.
                    match next_var {
                        Some(Var::QueryMark) => *stop = b'?',
                        Some(Var::RequestUri | Var::Path) => *stop = b'/',
                        _ => {}
                    }
                }
            }
        }
        let finders = (0..segs.len())
            .map(|i| match (&segs[i], segs.get(i + 1)) {
                (Seg::Field(_), Some(Seg::Lit { text, .. })) => {
                    Some(memmem::Finder::new(&**text).into_owned())
                }
                _ => None,
            })
            .collect();
        Template {
            segs,
            finders,
            fast: None,
        }
    }

    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.segs.iter().filter_map(|s| match s {
            Seg::Field(f) => Some(f),
            Seg::Lit { .. } => None,
        })
    }

    /// Let the line end after `k` bytes of the literal at index `seg` (used by presets).
    pub fn allow_end(&mut self, seg: usize, k: usize) {
        if let Some(Seg::Lit { text, end_after }) = self.segs.get_mut(seg) {
            *end_after = Some(k.min(text.len()));
        }
    }

    pub fn segs(&self) -> &[Seg] {
        &self.segs
    }

    pub fn parse<'a>(&self, name: &str, line: &'a str) -> Parsed<'a> {
        if let Some(kind) = self.fast
            && let Some(row) = fast::parse(kind, line)
        {
            return Parsed::Row(row);
        }
        self.parse_generic(name, line)
    }

    pub fn parse_generic<'a>(&self, name: &str, line: &'a str) -> Parsed<'a> {
        let mut run = Run {
            t: self,
            line,
            slots: Slots::default(),
            budget: BACKTRACK_BUDGET,
            fail: None,
        };
        if !run.from(0, 0) {
            let f = run.fail.unwrap_or(Failure {
                kind: FailKind::Literal,
                seg: 0,
                at: 0,
                end: 0,
            });
            return Parsed::Reject(self.reject(name, line, f));
        }
        match run.slots.finish(line) {
            Ok(row) => Parsed::Row(row),
            Err(Finish::NoTime) => Parsed::Reject(Reject::new(name, "no time in line", None)),
            Err(Finish::TimeRange) => {
                Parsed::Reject(Reject::new(name, "time outside the years 1 to 9999", None))
            }
        }
    }

    fn field_name(&self, seg: usize) -> &str {
        match self.segs.get(seg) {
            Some(Seg::Field(f)) => &f.name,
            _ => "",
        }
    }

    /// The field before / after segment `seg`, for "after X" / "before Y".
    fn neighbour(&self, seg: usize, forward: bool) -> Option<&str> {
        let mut i = seg;
        loop {
            if forward {
                i += 1;
            } else if i == 0 {
                return None;
            } else {
                i -= 1;
            }
            match self.segs.get(i)? {
                Seg::Field(f) => return Some(&f.name),
                Seg::Lit { .. } => {}
            }
        }
    }

    fn reject(&self, name: &str, line: &str, f: Failure) -> Reject {
        let value = || shown(line.get(f.at..f.end.min(line.len())).unwrap_or(""));
        let detail = match f.kind {
            FailKind::Literal => {
                let lit = match &self.segs[f.seg] {
                    Seg::Lit { text, .. } => shown(&String::from_utf8_lossy(text)),
                    Seg::Field(_) => String::new(),
                };
                match (self.neighbour(f.seg, true), self.neighbour(f.seg, false)) {
                    (Some(next), _) => format!("expected '{lit}' before {next} at byte {}", f.at),
                    (None, Some(prev)) => format!("expected '{lit}' after {prev} at byte {}", f.at),
                    (None, None) => format!("expected '{lit}' at byte {}", f.at),
                }
            }
            FailKind::Trailing => match self.neighbour(self.segs.len(), false) {
                Some(prev) => format!("unexpected text after {prev} at byte {}", f.at),
                None => format!("unexpected text at byte {}", f.at),
            },
            FailKind::Invalid => format!(
                "invalid {} \"{}\" at byte {}",
                self.field_name(f.seg),
                value(),
                f.at
            ),
            FailKind::OutOfRange => {
                format!(
                    "{} \"{}\" at byte {} out of range",
                    self.field_name(f.seg),
                    value(),
                    f.at
                )
            }
            FailKind::Unclosed => format!(
                "no closing '\"' for {} opened at byte {}",
                self.field_name(f.seg),
                f.at.saturating_sub(1)
            ),
            FailKind::Missing => {
                let lit = match self.segs.get(f.seg + 1) {
                    Some(Seg::Lit { text, .. }) => shown(&String::from_utf8_lossy(text)),
                    _ => String::new(),
                };
                match self.neighbour(f.seg + 1, true) {
                    Some(next) => format!("expected '{lit}' before {next} at byte {}", f.at),
                    None => format!(
                        "expected '{lit}' after {} at byte {}",
                        self.field_name(f.seg),
                        f.at
                    ),
                }
            }
        };
        Reject::new(name, &detail, Some(f.at))
    }
}

/// A value or literal as shown in a message: bounded, control characters escaped.
fn shown(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == 60 {
            out.push('…');
            break;
        }
        match c {
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn merge_literals(segs: &mut Vec<Seg>) {
    let mut out: Vec<Seg> = Vec::with_capacity(segs.len());
    for seg in segs.drain(..) {
        if let Seg::Lit {
            text: more,
            end_after: more_end,
        } = &seg
        {
            if let Some(Seg::Lit { text, end_after }) = out.last_mut() {
                *end_after = end_after.or(more_end.map(|k| k + text.len()));
                let mut joined = text.to_vec();
                joined.extend_from_slice(more);
                *text = joined.into_boxed_slice();
                continue;
            }
            if more.is_empty() && more_end.is_none() {
                continue;
            }
        }
        out.push(seg);
    }
    *segs = out;
}

impl<'a> Run<'a, '_> {
    /// The first failure is kept: the search is depth-first, so it is where the natural reading
    /// of the line (each quoted field closed at its first possible quote) went wrong.
    fn failed(&mut self, kind: FailKind, seg: usize, at: usize, end: usize) -> bool {
        if self.fail.is_none() {
            self.fail = Some(Failure { kind, seg, at, end });
        }
        false
    }

    /// Match segments `i..` from byte `pos`.
    fn from(&mut self, mut i: usize, mut pos: usize) -> bool {
        let t = self.t;
        let b = self.line.as_bytes();
        while i < t.segs.len() {
            match &t.segs[i] {
                Seg::Lit { text, end_after } => {
                    if end_after.is_some_and(|k| b[pos..] == text[..k]) {
                        return true;
                    }
                    if !b[pos..].starts_with(text) {
                        return self.failed(FailKind::Literal, i, pos, pos);
                    }
                    pos += text.len();
                }
                Seg::Field(f) if f.shape == Shape::Quoted => return self.quoted(i, f, pos),
                Seg::Field(f)
                    if matches!(f.var, Var::RemoteUser)
                        && f.shape == Shape::Text
                        && self.t.finders[i].is_some() =>
                {
                    return self.user(i, f, pos);
                }
                Seg::Field(f) => {
                    let Some(end) = self.extent(i, f, pos) else {
                        return self.failed(FailKind::Missing, i, pos, pos);
                    };
                    if !self.store(i, f, pos, end) {
                        return false;
                    }
                    pos = end;
                }
            }
            i += 1;
        }
        if pos != b.len() {
            return self.failed(FailKind::Trailing, t.segs.len(), pos, pos);
        }
        true
    }

    /// Clear every slot the fields from segment `i` on may have written.
    fn forget_from(&mut self, i: usize) {
        // Time parts are shared by several fields: clearing them would lose the earlier ones.
        let earlier_time = self.t.segs[..i].iter().any(
            |s| matches!(s, Seg::Field(f) if f.var.is_time() || matches!(f.var, Var::Frac(_))),
        );
        for seg in &self.t.segs[i..] {
            if let Seg::Field(f) = seg
                && !(earlier_time && (f.var.is_time() || matches!(f.var, Var::Frac(_))))
            {
                self.slots.clear(&f.var);
            }
        }
    }

    fn store(&mut self, i: usize, f: &Field, start: usize, end: usize) -> bool {
        let value = Cow::Borrowed(&self.line[start..end]);
        match apply(&f.var, f.decode, value, &mut self.slots) {
            Ok(()) => true,
            Err(FieldError::Invalid) => self.failed(FailKind::Invalid, i, start, end),
            Err(FieldError::OutOfRange) => self.failed(FailKind::OutOfRange, i, start, end),
        }
    }

    /// Where an unquoted field that starts at `pos` ends.
    fn extent(&self, i: usize, f: &Field, pos: usize) -> Option<usize> {
        let b = self.line.as_bytes();
        let rest = &b[pos..];
        let next = match self.t.segs.get(i + 1) {
            Some(Seg::Lit { text, .. }) => Some(&**text),
            _ => None,
        };
        let term = next.and_then(|n| n.first().copied()).unwrap_or(b' ');
        let token_end = |from: usize, stop: u8| {
            from + memchr3(b' ', term, stop, &b[from..]).unwrap_or(b.len() - from)
        };
        Some(match f.shape {
            Shape::Token { stop } => token_end(pos, stop),
            Shape::Words(n) if term == b' ' => {
                let mut at = pos;
                for _ in 1..n {
                    at += memchr(b' ', &b[at..])? + 1;
                }
                token_end(at, b' ')
            }
            Shape::List if term == b' ' => {
                let mut at = pos;
                loop {
                    at += memchr2(b' ', b',', &b[at..]).unwrap_or(b.len() - at);
                    let sep = match &b[at..] {
                        [b',', b' ', c, ..] | [b' ', b':', b' ', c, ..] if *c != b' ' => {
                            if b[at] == b',' { 2 } else { 3 }
                        }
                        [b',', c, ..] if *c != b' ' => 1,
                        _ => break,
                    };
                    at += sep;
                }
                at
            }
            Shape::Words(_) | Shape::List | Shape::Text => match next {
                None => b.len(),
                Some(_) => pos + self.t.finders[i].as_ref()?.find(rest)?,
            },
            Shape::Quoted => return None,
        })
    }

    /// Before each try of segment `i` after the first: spend one of the line's retries and
    /// clear what the failed try stored. False once the budget is spent.
    fn next_try(&mut self, i: usize, tried: &mut u32) -> bool {
        if *tried > 0 {
            if self.budget == 0 {
                return false;
            }
            self.budget -= 1;
            self.forget_from(i);
        }
        *tried += 1;
        true
    }

    /// The user name at `pos` and everything after it: try each place the literal after it
    /// occurs. Its value may hold that literal: nginx logs `$remote_user` from any client's
    /// `Authorization: Basic` header, so `a [b` comes before ` [$time_local]`.
    fn user(&mut self, i: usize, f: &Field, pos: usize) -> bool {
        let b = self.line.as_bytes();
        let finder = self.t.finders[i].as_ref().expect("a literal follows");
        let mut at = pos;
        let mut tried = 0u32;
        while let Some(off) = finder.find(&b[at..]) {
            let j = at + off;
            if !self.next_try(i, &mut tried) {
                return false;
            }
            if self.store(i, f, pos, j) && self.from(i + 1, j) {
                return true;
            }
            at = j + 1;
        }
        // Every place failed further on: the first failure, already kept, says why.
        tried == 0 && self.failed(FailKind::Missing, i, pos, pos)
    }

    /// A quoted field at `pos` (just after its opening quote) and everything after it: try each
    /// closing quote that the following literal could start at, until the rest matches.
    fn quoted(&mut self, i: usize, f: &Field, pos: usize) -> bool {
        let b = self.line.as_bytes();
        let Some(Seg::Lit {
            text: term,
            end_after,
        }) = self.t.segs.get(i + 1)
        else {
            return self.failed(FailKind::Missing, i, pos, pos);
        };
        let last = i + 2 == self.t.segs.len();
        let escapes = f.decode == Decode::Backslash;
        let mut at = pos;
        let mut any_quote = false;
        let mut tried = 0u32;
        loop {
            let found = if escapes {
                memchr2(b'"', b'\\', &b[at..])
            } else {
                memchr(b'"', &b[at..])
            };
            let Some(off) = found else { break };
            let j = at + off;
            if b[j] == b'\\' {
                at = j + 2;
                if at > b.len() {
                    break;
                }
                continue;
            }
            any_quote = true;
            at = j + 1;
            // `" "` inside a value is two fields: never look past it.
            let separator = b[j..].starts_with(b"\" \"");
            let ends_here = end_after.is_some_and(|k| k > 0 && b[j..] == term[..k]);
            if ends_here || b[j..].starts_with(term) && (!last || j + term.len() == b.len()) {
                if !self.next_try(i, &mut tried) {
                    return false;
                }
                if self.store(i, f, pos, j) && self.from(i + 1, j) {
                    return true;
                }
            }
            if separator {
                break;
            }
        }
        if last && !any_quote {
            // The last field lost its closing quote (seen in real logs): keep the rest.
            return self.store(i, f, pos, b.len());
        }
        if any_quote {
            let first = first_quote(b, pos, escapes).unwrap_or(pos);
            if last {
                return self.failed(FailKind::Trailing, self.t.segs.len(), first + 1, first + 1);
            }
            return self.failed(FailKind::Missing, i, first, first);
        }
        self.failed(FailKind::Unclosed, i, pos, pos)
    }
}

fn first_quote(b: &[u8], mut at: usize, escapes: bool) -> Option<usize> {
    loop {
        let j = at
            + if escapes {
                memchr2(b'"', b'\\', &b[at..])?
            } else {
                memchr(b'"', &b[at..])?
            };
        if b[j] == b'"' {
            return Some(j);
        }
        at = j + 2;
        if at > b.len() {
            return None;
        }
    }
}
