//! Container runtimes' wrappers around a server's lines, removed as the lines are read:
//! - CRI (Kubernetes' `/var/log/containers/*.log`, containerd, CRI-O):
//!   `<RFC 3339 time> <stream> <P|F> <line>`; a long line is split into `P` parts, the last
//!   one tagged `F`.
//! - Docker's json-file driver: `{"log":"<line>\n","stream":"stdout","time":"…"}`; a long
//!   line is split into entries whose `log` does not end in `\n`.
//!
//! The reader cuts chunks only after a line that ends a record, so a record split into parts
//! is always read whole (or left, as a partial line is, for the next run), and checkpoints
//! stay at record boundaries. What the format parses, and `raw_log` stores, is the server's
//! line; the runtime's time and stream are kept beside it.

use std::borrow::Cow;

/// How a file's lines are wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapper {
    Cri,
    DockerJson,
}

/// What the source says of wrapping: recognised per file, none, or one for every file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum WrapperChoice {
    /// Recognised from the file's first lines; unwrapped files are read as they are.
    #[default]
    Auto,
    None,
    Cri,
    DockerJson,
}

impl WrapperChoice {
    pub fn parse(text: &str) -> Option<WrapperChoice> {
        match text {
            "auto" => Some(WrapperChoice::Auto),
            "none" => Some(WrapperChoice::None),
            "cri" => Some(WrapperChoice::Cri),
            "docker-json" => Some(WrapperChoice::DockerJson),
            _ => None,
        }
    }

    /// The wrapper of a file whose first complete lines are `first`.
    pub fn resolve(self, first: &[Vec<u8>]) -> Option<Wrapper> {
        match self {
            WrapperChoice::None => None,
            WrapperChoice::Cri => Some(Wrapper::Cri),
            WrapperChoice::DockerJson => Some(Wrapper::DockerJson),
            WrapperChoice::Auto => {
                let lines: Vec<&[u8]> = first
                    .iter()
                    .map(Vec::as_slice)
                    .filter(|l| !l.is_empty())
                    .collect();
                let all = |f: fn(&[u8]) -> bool| !lines.is_empty() && lines.iter().all(|l| f(l));
                if all(|l| cri_parts(l).is_some()) {
                    Some(Wrapper::Cri)
                } else if all(|l| l.starts_with(b"{\"log\":\"")) {
                    Some(Wrapper::DockerJson)
                } else {
                    None
                }
            }
        }
    }
}

/// One record unwrapped: the server's line, where its first part starts, and the runtime's
/// time (µs UTC) and stream.
pub struct Record<'a> {
    pub line: Cow<'a, [u8]>,
    pub offset: u64,
    pub collected_at: Option<i64>,
    pub stream: Option<&'static str>,
}

impl Wrapper {
    pub fn name(self) -> &'static str {
        match self {
            Wrapper::Cri => "cri",
            Wrapper::DockerJson => "docker-json",
        }
    }

    /// Whether `line` (without its newline) ends a record: a chunk may be cut after it.
    pub fn ends_record(self, line: &[u8]) -> bool {
        match self {
            Wrapper::Cri => cri_parts(line).is_none_or(|(_, _, tag, _)| tag != b"P"),
            Wrapper::DockerJson => docker_log_ends_line(line).unwrap_or(true),
        }
    }

    /// The records of `data` (whole lines, the first at file offset `start`). A line that is
    /// not wrapped as it should be is passed on as it is (the format will judge it); parts
    /// left unfinished at the end (only when a record was longer than a chunk may hold) are
    /// passed on joined.
    pub fn records(self, data: &[u8], start: u64) -> Vec<Record<'_>> {
        let mut out = Vec::new();
        let mut pending: Option<(Vec<u8>, u64)> = None;
        let mut at = 0usize;
        for line in data.split_inclusive(|&b| b == b'\n') {
            let offset = start + at as u64;
            at += line.len();
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let Some(part) = self.part(line) else {
                if let Some((joined, first)) = pending.take() {
                    out.push(Record::owned(joined, first, None, None));
                }
                out.push(Record {
                    line: Cow::Borrowed(line),
                    offset,
                    collected_at: None,
                    stream: None,
                });
                continue;
            };
            match (pending.take(), part.last) {
                (None, true) => out.push(Record {
                    line: part.content,
                    offset,
                    collected_at: part.time,
                    stream: part.stream,
                }),
                (Some((mut joined, first)), true) => {
                    joined.extend_from_slice(&part.content);
                    out.push(Record::owned(joined, first, part.time, part.stream));
                }
                (None, false) => pending = Some((part.content.into_owned(), offset)),
                (Some((mut joined, first)), false) => {
                    joined.extend_from_slice(&part.content);
                    pending = Some((joined, first));
                }
            }
        }
        if let Some((joined, first)) = pending {
            out.push(Record::owned(joined, first, None, None));
        }
        out
    }

    fn part(self, line: &[u8]) -> Option<Part<'_>> {
        match self {
            Wrapper::Cri => {
                let (time, stream, tag, content) = cri_parts(line)?;
                Some(Part {
                    content: Cow::Borrowed(content),
                    last: tag != b"P",
                    time: rfc3339_micros(time),
                    stream: stream_name(stream),
                })
            }
            Wrapper::DockerJson => {
                #[derive(serde::Deserialize)]
                struct Entry {
                    log: String,
                    stream: Option<String>,
                    time: Option<String>,
                }
                let entry: Entry = serde_json::from_slice(line).ok()?;
                let mut log = entry.log.into_bytes();
                let last = log.last() == Some(&b'\n');
                if last {
                    log.pop();
                    if log.last() == Some(&b'\r') {
                        log.pop();
                    }
                }
                Some(Part {
                    content: Cow::Owned(log),
                    last,
                    time: entry
                        .time
                        .as_deref()
                        .and_then(|t| rfc3339_micros(t.as_bytes())),
                    stream: entry
                        .stream
                        .as_deref()
                        .and_then(|s| stream_name(s.as_bytes())),
                })
            }
        }
    }
}

impl Record<'_> {
    fn owned(
        line: Vec<u8>,
        offset: u64,
        collected_at: Option<i64>,
        stream: Option<&'static str>,
    ) -> Record<'static> {
        Record {
            line: Cow::Owned(line),
            offset,
            collected_at,
            stream,
        }
    }
}

struct Part<'a> {
    content: Cow<'a, [u8]>,
    last: bool,
    time: Option<i64>,
    stream: Option<&'static str>,
}

/// A CRI line's `<time> <stream> <tag> <content>`.
type CriParts<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8]);

/// The fields of a CRI line (the tag may carry more flags after `:`).
fn cri_parts(line: &[u8]) -> Option<CriParts<'_>> {
    let mut fields = line.splitn(4, |&b| b == b' ');
    let time = fields.next()?;
    let stream = fields.next()?;
    let tag = fields.next()?;
    let content = fields.next().unwrap_or_default();
    let looks_like_time = time.len() >= 20 && time[4] == b'-' && time[10] == b'T';
    let tag = tag.split(|&b| b == b':').next().unwrap_or_default();
    (looks_like_time && stream_name(stream).is_some() && (tag == b"P" || tag == b"F"))
        .then_some((time, stream, tag, content))
}

fn stream_name(s: &[u8]) -> Option<&'static str> {
    match s {
        b"stdout" => Some("stdout"),
        b"stderr" => Some("stderr"),
        _ => None,
    }
}

fn rfc3339_micros(text: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?;
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_micros())
}

/// Whether a json-file entry's `log` ends in a newline (None: not such an entry). Inside a
/// JSON string a quote is escaped, so the first `","stream":"` ends the value.
fn docker_log_ends_line(line: &[u8]) -> Option<bool> {
    let value = line.strip_prefix(b"{\"log\":\"")?;
    let end = memchr::memmem::find(value, b"\",\"stream\":\"")?;
    let value = &value[..end];
    let Some(body) = value.strip_suffix(b"n") else {
        return Some(false);
    };
    // `\n` escapes a newline only after an odd number of backslashes.
    let backslashes = body.iter().rev().take_while(|&&b| b == b'\\').count();
    Some(backslashes % 2 == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cri_parts_are_joined_and_keep_the_first_offset() {
        let data = b"2026-12-03T06:00:00.123456789Z stdout P GET /a\n\
2026-12-03T06:00:00.123456790Z stdout F bc HTTP/1.1\n\
2026-12-03T06:00:01Z stderr F whole line\n";
        let records = Wrapper::Cri.records(data, 100);
        assert_eq!(records.len(), 2);
        assert_eq!(&*records[0].line, b"GET /abc HTTP/1.1");
        assert_eq!(records[0].offset, 100);
        assert_eq!(records[0].stream, Some("stdout"));
        // 2026-12-03T06:00:00Z is 1796277600 s after the epoch (date -u -d …).
        assert_eq!(records[0].collected_at, Some(1_796_277_600_123_456));
        assert_eq!(&*records[1].line, b"whole line");
        assert_eq!(records[1].offset, 100 + 47 + 52);
        assert_eq!(records[1].stream, Some("stderr"));
        assert!(!Wrapper::Cri.ends_record(b"2026-12-03T06:00:00Z stdout P x"));
        assert!(Wrapper::Cri.ends_record(b"2026-12-03T06:00:00Z stdout F x"));
    }

    #[test]
    fn docker_entries_are_unescaped_and_joined() {
        let data = br#"{"log":"GET \"/a","stream":"stdout","time":"2026-12-03T06:00:00.5Z"}
{"log":"b\" 200\n","stream":"stdout","time":"2026-12-03T06:00:00.6Z"}
{"log":"ends in a backslash-n: \\n","stream":"stdout","time":"2026-12-03T06:00:00.7Z"}
{"log":"done\r\n","stream":"stderr","time":"2026-12-03T06:00:00.8Z"}
"#;
        let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
        assert!(!Wrapper::DockerJson.ends_record(lines[0]));
        assert!(Wrapper::DockerJson.ends_record(lines[1]));
        assert!(!Wrapper::DockerJson.ends_record(lines[2]));
        let records = Wrapper::DockerJson.records(data, 0);
        assert_eq!(records.len(), 2);
        assert_eq!(&*records[0].line, b"GET \"/ab\" 200");
        assert_eq!(records[0].offset, 0);
        assert_eq!(&*records[1].line, b"ends in a backslash-n: \\ndone");
        assert_eq!(records[1].stream, Some("stderr"));
        assert_eq!(records[1].collected_at, Some(1_796_277_600_800_000));
    }

    #[test]
    fn wrappers_are_recognised_from_first_lines() {
        let cri = vec![b"2026-12-03T06:00:00Z stdout F x".to_vec()];
        let docker = vec![br#"{"log":"x\n","stream":"stdout","time":"t"}"#.to_vec()];
        let plain = vec![b"10.0.0.1 - - [x]".to_vec()];
        assert_eq!(WrapperChoice::Auto.resolve(&cri), Some(Wrapper::Cri));
        assert_eq!(
            WrapperChoice::Auto.resolve(&docker),
            Some(Wrapper::DockerJson)
        );
        assert_eq!(WrapperChoice::Auto.resolve(&plain), None);
        assert_eq!(WrapperChoice::None.resolve(&cri), None);
    }
}
