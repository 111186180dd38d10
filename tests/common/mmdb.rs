//! A minimal MaxMind DB (.mmdb) writer for tests, following the MaxMind DB format spec
//! (version 2.0): an IPv6 search tree with 24-bit records, a data section and metadata.
//! Enough for a handful of non-overlapping networks, each mapped to a small map of strings.

use std::collections::BTreeMap;
use std::net::IpAddr;

/// A record's data: a map whose values are strings or maps of strings.
pub enum Value {
    Str(String),
    Map(BTreeMap<String, Value>),
}

pub fn write(networks: &[(&str, Value)]) -> Vec<u8> {
    // Tree nodes: [left, right], each a child node index or a leaf.
    #[derive(Clone, Copy)]
    enum Rec {
        Empty,
        Node(usize),
        Data(usize),
    }
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
    let mut data = Vec::new();
    for (net, value) in networks {
        let (addr, len) = net.split_once('/').unwrap();
        let len: usize = len.parse().unwrap();
        let (bits, len) = match addr.parse::<IpAddr>().unwrap() {
            IpAddr::V4(a) => (u128::from(u32::from(a)), len + 96), // IPv4 lives at ::a.b.c.d
            IpAddr::V6(a) => (u128::from(a), len),
        };
        let offset = data.len();
        encode(value, &mut data);
        let mut node = 0;
        for i in 0..len {
            let bit = ((bits >> (127 - i)) & 1) as usize;
            if i + 1 == len {
                nodes[node][bit] = Rec::Data(offset);
            } else {
                node = match nodes[node][bit] {
                    Rec::Node(n) => n,
                    _ => {
                        nodes.push([Rec::Empty, Rec::Empty]);
                        let n = nodes.len() - 1;
                        nodes[node][bit] = Rec::Node(n);
                        n
                    }
                };
            }
        }
    }
    let count = nodes.len();
    let mut out = Vec::new();
    for node in &nodes {
        for rec in node {
            let v = match *rec {
                Rec::Empty => count,
                Rec::Node(n) => n,
                Rec::Data(off) => count + 16 + off,
            };
            out.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    // Metadata map, 9 entries.
    out.push((7 << 5) | 9);
    let s = |out: &mut Vec<u8>, v: &str| encode(&Value::Str(v.to_string()), out);
    let uint = |out: &mut Vec<u8>, ty: u8, v: u64, width: usize| {
        let bytes = &v.to_be_bytes()[8 - width..];
        if ty <= 7 {
            out.push((ty << 5) | width as u8);
        } else {
            out.push(width as u8);
            out.push(ty - 7);
        }
        out.extend_from_slice(bytes);
    };
    s(&mut out, "binary_format_major_version");
    uint(&mut out, 5, 2, 2);
    s(&mut out, "binary_format_minor_version");
    uint(&mut out, 5, 0, 2);
    s(&mut out, "build_epoch");
    uint(&mut out, 9, 1_700_000_000, 8);
    s(&mut out, "database_type");
    s(&mut out, "weblog-test-country");
    s(&mut out, "description");
    out.push(7 << 5); // empty map
    s(&mut out, "ip_version");
    uint(&mut out, 5, 6, 2);
    s(&mut out, "languages");
    out.push(0); // array of 0 elements: extended type 11
    out.push(11 - 7);
    s(&mut out, "node_count");
    uint(&mut out, 6, count as u64, 4);
    s(&mut out, "record_size");
    uint(&mut out, 5, 24, 2);
    out
}

fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Str(s) => {
            assert!(s.len() < 29);
            out.push((2 << 5) | s.len() as u8);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Map(m) => {
            assert!(m.len() < 29);
            out.push((7 << 5) | m.len() as u8);
            for (k, v) in m {
                encode(&Value::Str(k.clone()), out);
                encode(v, out);
            }
        }
    }
}
