//! `--anonymize-ip`: every IP address a line holds, masked to its network before anything is
//! stored. Levels:
//! - `low`: IPv4 /24 (the last octet zeroed, as GoAccess and Google Analytics do), IPv6 /48
//!   (Google Analytics'; GoAccess's /64 keeps one customer's whole network, judged too weak
//!   for IPv6 in GoAccess #2282);
//! - `high`: IPv4 /16 (the last 16 bits, as France's CNIL recommends), IPv6 /32 (a provider's
//!   allocation).
//!
//! An address is any IPv4 dotted quad or IPv6 literal in the text, wherever it is (the client
//! field, X-Forwarded-For, a path or a referer naming an address), so a four-part version
//! number in a user agent that reads like an IPv4 address is masked too.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How much of each address is kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum AnonymizeIp {
    /// Addresses are stored as logged.
    #[default]
    Off,
    /// IPv4 /24, IPv6 /48.
    Low,
    /// IPv4 /16, IPv6 /32.
    High,
}

impl AnonymizeIp {
    /// The level's name, as the flag spells it (recorded in the warehouse).
    pub fn name(self) -> &'static str {
        match self {
            AnonymizeIp::Off => "off",
            AnonymizeIp::Low => "low",
            AnonymizeIp::High => "high",
        }
    }

    /// Prefix lengths kept (IPv4, IPv6); None when off.
    fn prefixes(self) -> Option<(u32, u32)> {
        match self {
            AnonymizeIp::Off => None,
            AnonymizeIp::Low => Some((24, 48)),
            AnonymizeIp::High => Some((16, 32)),
        }
    }

    pub fn is_on(self) -> bool {
        self != AnonymizeIp::Off
    }

    /// One address masked (an IPv4-mapped IPv6 address by the IPv4 rule).
    pub fn mask(self, addr: IpAddr) -> IpAddr {
        let Some((v4, v6)) = self.prefixes() else {
            return addr;
        };
        let mask4 = |a: Ipv4Addr| Ipv4Addr::from(u32::from(a) & (u32::MAX << (32 - v4)));
        match addr {
            IpAddr::V4(a) => IpAddr::V4(mask4(a)),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(m) => IpAddr::V6(mask4(m).to_ipv6_mapped()),
                None => IpAddr::V6(Ipv6Addr::from(u128::from(a) & (u128::MAX << (128 - v6)))),
            },
        }
    }

    /// `text` with every IP address in it masked; borrowed when there is none (or when off).
    pub fn mask_text(self, text: &str) -> Cow<'_, str> {
        if !self.is_on() {
            return Cow::Borrowed(text);
        }
        let mut out: Option<String> = None;
        let mut copied = 0;
        each_address(text, |i, len, addr| {
            let masked = self.mask(addr).to_string();
            if masked != text[i..i + len] {
                let s = out.get_or_insert_with(|| String::with_capacity(text.len()));
                s.push_str(&text[copied..i]);
                s.push_str(&masked);
                copied = i + len;
            }
        });
        match out {
            None => Cow::Borrowed(text),
            Some(mut s) => {
                s.push_str(&text[copied..]);
                Cow::Owned(s)
            }
        }
    }
}

/// Every IP address in `text`, found as [`AnonymizeIp::mask_text`] finds those it masks
/// (`weblog forget` looks for a visitor's address in rejects with it).
pub fn addresses(text: &str) -> Vec<IpAddr> {
    let mut found = Vec::new();
    each_address(text, |_, _, addr| found.push(addr));
    found
}

/// Call `f(start, len, address)` for each address in `text`, left to right.
fn each_address(text: &str, mut f: impl FnMut(usize, usize, IpAddr)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let prev = i.checked_sub(1).map(|p| bytes[p]);
        let found = ipv6_at(text, i, prev).or_else(|| ipv4_at(bytes, i, prev));
        let Some((len, addr)) = found else {
            i += 1;
            continue;
        };
        f(i, len, addr);
        i += len;
    }
}

/// An IPv6 literal starting at `i` (a whole run of hex digits, colons and dots, with at least
/// two colons: `10:00:00` is a time, not an address): its length and value.
fn ipv6_at(text: &str, i: usize, prev: Option<u8>) -> Option<(usize, IpAddr)> {
    let bytes = text.as_bytes();
    let part = |b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.';
    if !(bytes[i].is_ascii_hexdigit() || bytes[i] == b':') || prev.is_some_and(part) {
        return None;
    }
    let len = bytes[i..].iter().take_while(|&&b| part(b)).count();
    let token = text[i..i + len].trim_end_matches('.');
    if token.bytes().filter(|&b| b == b':').count() < 2 {
        return None;
    }
    let a = token.parse::<Ipv6Addr>().ok()?;
    Some((token.len(), IpAddr::V6(a)))
}

/// An IPv4 dotted quad starting at `i`, not part of a longer run of numbers and dots (so
/// `1.2.3.4.5`, a version number, is none; `1.2.3.4.` ending a sentence is one; octets may
/// have leading zeros): its length and value.
fn ipv4_at(bytes: &[u8], i: usize, prev: Option<u8>) -> Option<(usize, IpAddr)> {
    if !bytes[i].is_ascii_digit() || prev.is_some_and(|p| p.is_ascii_digit() || p == b'.') {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut at = i;
    for (n, octet) in octets.iter_mut().enumerate() {
        if n > 0 {
            if bytes.get(at) != Some(&b'.') {
                return None;
            }
            at += 1;
        }
        let digits = bytes[at..]
            .iter()
            .take(4)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if !(1..=3).contains(&digits) {
            return None;
        }
        let value = bytes[at..at + digits]
            .iter()
            .fold(0u32, |v, d| v * 10 + u32::from(d - b'0'));
        *octet = u8::try_from(value).ok()?;
        at += digits;
    }
    let continues = match bytes.get(at) {
        Some(b) if b.is_ascii_digit() => true,
        Some(b'.') => bytes.get(at + 1).is_some_and(u8::is_ascii_digit),
        _ => false,
    };
    (!continues).then(|| (at - i, IpAddr::V4(Ipv4Addr::from(octets))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_keep_the_documented_prefixes() {
        let cases = [
            (AnonymizeIp::Low, "203.0.113.77", "203.0.113.0"),
            (AnonymizeIp::High, "203.0.113.77", "203.0.0.0"),
            (
                AnonymizeIp::Low,
                "2001:db8:abcd:12:1:2:3:4",
                "2001:db8:abcd::",
            ),
            (AnonymizeIp::High, "2001:db8:abcd:12:1:2:3:4", "2001:db8::"),
            (
                AnonymizeIp::Low,
                "::ffff:198.51.100.9",
                "::ffff:198.51.100.0",
            ),
            (AnonymizeIp::Off, "203.0.113.77", "203.0.113.77"),
        ];
        for (level, addr, want) in cases {
            let got = level.mask(addr.parse().unwrap()).to_string();
            assert_eq!(got, want, "{level:?} {addr}");
        }
    }

    #[test]
    fn every_address_in_a_line_is_masked_and_nothing_else() {
        let line = r#"203.0.113.77 - - [01/Nov/2026:10:00:00 +0100] "GET /x?from=198.51.100.23:8080 HTTP/1.1" 200 5 "http://[2001:db8:1:2::9]/" "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0.6099.109 Safari/537.36" "192.0.2.1, 10.1.2.3""#;
        let want = r#"203.0.0.0 - - [01/Nov/2026:10:00:00 +0100] "GET /x?from=198.51.0.0:8080 HTTP/1.1" 200 5 "http://[2001:db8::]/" "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0.6099.109 Safari/537.36" "192.0.0.0, 10.1.0.0""#;
        assert_eq!(AnonymizeIp::High.mask_text(line), want);
    }

    #[test]
    fn text_without_an_address_is_not_copied() {
        for text in [
            "GET /index.html HTTP/1.1",
            "10:00:00 +0100",
            "curl/8.4.0",
            "app/1.2.3.4.5",
            "std::vector",
            "",
        ] {
            assert!(
                matches!(AnonymizeIp::Low.mask_text(text), Cow::Borrowed(_)),
                "{text}"
            );
        }
    }

    #[test]
    fn addresses_at_the_edges_of_the_text() {
        assert_eq!(AnonymizeIp::Low.mask_text("1.2.3.4"), "1.2.3.0");
        assert_eq!(AnonymizeIp::Low.mask_text("::1"), "::");
        assert_eq!(AnonymizeIp::Low.mask_text("ip:1.2.3.4"), "ip:1.2.3.0");
        assert_eq!(
            AnonymizeIp::Low.mask_text("x=010.002.003.004"),
            "x=10.2.3.0"
        );
        assert_eq!(
            AnonymizeIp::Low.mask_text("mac 00:1b:44:11:3a:b7"),
            "mac 00:1b:44:11:3a:b7"
        );
        assert_eq!(
            AnonymizeIp::Low.mask_text("a 1.2.3.4. b 5.6.7.8"),
            "a 1.2.3.0. b 5.6.7.0"
        );
    }
}
