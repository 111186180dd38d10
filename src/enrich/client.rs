//! The visitor's address (`client_addr`) from what a line logged, as nginx's realip module
//! decides it (`real_ip_recursive on`): behind trusted proxies, the right-most address of the
//! forwarding chain that is not a trusted proxy. The logged `remote_addr` is kept as it is.

use std::net::IpAddr;
use std::str::FromStr;

/// Where the visitor's address comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ClientIp {
    /// The connecting address as logged (`$remote_addr`, `%h`, `c-ip`, …).
    #[default]
    RemoteAddr,
    /// `X-Forwarded-For`, when the connecting address is a trusted proxy.
    XForwardedFor,
}

/// An address block, `10.0.0.0/8` or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = s.split_once('/').unwrap_or((s, ""));
        let net: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an address or CIDR block"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            max
        } else {
            prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix must be 0 to {max}"))?
        };
        Ok(Cidr { net, prefix })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let whole = if self.net.is_ipv4() { 32 } else { 128 };
        match self.prefix {
            p if p == whole => write!(f, "{}", self.net),
            p => write!(f, "{}/{p}", self.net),
        }
    }
}

impl Cidr {
    /// The one address of a block of one (`/32`, `/128`, or no prefix given).
    pub fn single(&self) -> Option<IpAddr> {
        let full = if self.net.is_ipv4() { 32 } else { 128 };
        (self.prefix == full).then_some(self.net)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        fn bits(ip: IpAddr) -> (u128, u8) {
            match ip {
                IpAddr::V4(v4) => (u32::from(v4) as u128, 32),
                IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) => (u32::from(v4) as u128, 32),
                    None => (u128::from(v6), 128),
                },
            }
        }
        let (net, width) = bits(self.net);
        let (addr, addr_width) = bits(ip);
        if width != addr_width {
            return false;
        }
        let shift = (width - self.prefix.min(width)) as u32;
        let mask = if shift >= 128 { 0 } else { u128::MAX << shift };
        (net & mask) == (addr & mask)
    }
}

/// The blocks `--trusted-proxies` names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cidrs(pub Vec<Cidr>);

/// `--trusted-proxies`: a comma-separated list of blocks.
pub fn parse_cidrs(s: &str) -> Result<Cidrs, String> {
    let blocks = s
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(Cidr::from_str)
        .collect::<Result<Vec<_>, _>>()?;
    if blocks.is_empty() {
        return Err("no address blocks given".into());
    }
    Ok(Cidrs(blocks))
}

/// Proxies trusted when `--client-ip x-forwarded-for` names none: loopback and private
/// networks (where load balancers live).
const PRIVATE: [&str; 7] = [
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
];

/// Decides `client_addr` for each line.
#[derive(Debug, Clone, Default)]
pub struct ClientResolver {
    mode: ClientIp,
    trusted: Vec<Cidr>,
}

impl ClientResolver {
    pub fn new(mode: ClientIp, trusted: Vec<Cidr>) -> Self {
        let trusted = if trusted.is_empty() && mode == ClientIp::XForwardedFor {
            PRIVATE.iter().map(|c| c.parse().expect("valid")).collect()
        } else {
            trusted
        };
        ClientResolver { mode, trusted }
    }

    fn trusted(&self, addr: &str) -> bool {
        match addr.parse::<IpAddr>() {
            Ok(ip) => self.trusted.iter().any(|c| c.contains(ip)),
            // A host name (HostnameLookups On) or garbage is never a trusted proxy.
            Err(_) => false,
        }
    }

    /// The visitor's address: a slice of `remote_addr` or of `x_forwarded_for`.
    pub fn client<'a>(
        &self,
        remote_addr: Option<&'a str>,
        x_forwarded_for: Option<&'a str>,
    ) -> Option<&'a str> {
        let remote = remote_addr?;
        let simple = !remote.contains(',');
        if simple && self.mode == ClientIp::XForwardedFor {
            return Some(self.realip(remote.trim(), x_forwarded_for));
        }
        if simple && (self.mode == ClientIp::RemoteAddr || !self.trusted(remote.trim())) {
            return Some(remote.trim());
        }
        // The chain, left (the original client, as claimed) to right (the last proxy): a
        // remote_addr that is itself a list, after the forwarded-for entries when used.
        let forwarded = match self.mode {
            ClientIp::XForwardedFor => x_forwarded_for.unwrap_or(""),
            ClientIp::RemoteAddr => "",
        };
        let chain: Vec<&str> = forwarded
            .split(',')
            .chain(remote.split(','))
            .map(str::trim)
            .filter(|a| !a.is_empty() && *a != "-" && *a != "unknown")
            .collect();
        if self.trusted.is_empty() {
            // A listed remote_addr with no proxies named: the address it starts with.
            return chain.first().copied().or(Some(remote.trim()));
        }
        chain
            .iter()
            .rev()
            .find(|a| !self.trusted(a))
            .or(chain.first())
            .copied()
            .or(Some(remote.trim()))
    }
}

impl ClientResolver {
    /// nginx's realip module with `real_ip_recursive on` (ngx_http_get_forwarded_addr_internal):
    /// while the current address is a trusted proxy, take the next entry of the header from the
    /// right; an entry that is not an address (`unknown`, garbage) ends the walk and the last
    /// trusted address stays. Ports (`1.2.3.4:5678`, `[2001:db8::1]:443`) are not part of it.
    fn realip<'a>(&self, remote: &'a str, x_forwarded_for: Option<&'a str>) -> &'a str {
        let Some((mut client, mut ip)) = addr_port(remote) else {
            return remote;
        };
        let mut entries = x_forwarded_for
            .unwrap_or("")
            .rsplit(',')
            .map(str::trim)
            .skip_while(|e| e.is_empty());
        while self.trusted.iter().any(|c| c.contains(ip)) {
            let Some((addr, next)) = entries.next().and_then(addr_port) else {
                break;
            };
            (client, ip) = (addr, next);
        }
        client
    }
}

/// An address as nginx's `ngx_parse_addr_port` reads one: `1.2.3.4`, `1.2.3.4:80`, `::1`,
/// `[::1]`, `[::1]:443`; the address's own slice of `s`.
fn addr_port(s: &str) -> Option<(&str, IpAddr)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let ip = inside.parse::<std::net::Ipv6Addr>().ok()?;
        return (after.is_empty() || port(after.strip_prefix(':')?)).then_some((inside, ip.into()));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some((s, ip));
    }
    let (addr, p) = s.rsplit_once(':')?;
    let ip = addr.parse::<std::net::Ipv4Addr>().ok()?;
    port(p).then_some((addr, ip.into()))
}

fn port(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 5
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<u32>().is_ok_and(|p| p <= 65535)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(mode: ClientIp, trusted: &str) -> ClientResolver {
        let blocks = if trusted.is_empty() {
            Vec::new()
        } else {
            parse_cidrs(trusted).unwrap().0
        };
        ClientResolver::new(mode, blocks)
    }

    #[test]
    fn blocks_contain_what_they_should() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains("10.200.1.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(
            c.contains("::ffff:10.1.2.3".parse().unwrap()),
            "IPv4-mapped"
        );
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        let one: Cidr = "192.0.2.7".parse().unwrap();
        assert!(one.contains("192.0.2.7".parse().unwrap()));
        assert!(!one.contains("192.0.2.8".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nope", "10.0.0/8", "::/129"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_address_is_the_client() {
        let r = resolver(ClientIp::XForwardedFor, "10.0.0.0/8,192.0.2.1");
        // The balancer (trusted) connected; the chain says client, then a proxy of ours.
        assert_eq!(
            r.client(Some("10.0.0.5"), Some("203.0.113.9, 10.1.1.1")),
            Some("203.0.113.9")
        );
        // A spoofed left-most entry does not win over the real client nearer to us.
        assert_eq!(
            r.client(Some("10.0.0.5"), Some("1.1.1.1, 198.51.100.4, 192.0.2.1")),
            Some("198.51.100.4")
        );
        // Not from a trusted proxy: the header is not believed.
        assert_eq!(
            r.client(Some("198.51.100.77"), Some("1.1.1.1")),
            Some("198.51.100.77")
        );
        // All trusted: the left-most.
        assert_eq!(
            r.client(Some("10.0.0.5"), Some("10.9.9.9")),
            Some("10.9.9.9")
        );
        // No header: the connecting address.
        assert_eq!(r.client(Some("10.0.0.5"), None), Some("10.0.0.5"));
    }

    /// nginx's realip (`set_real_ip_from 10.0.0.0/8; real_ip_header X-Forwarded-For;
    /// real_ip_recursive on;`) case by case: (remote_addr, X-Forwarded-For, $remote_addr after).
    #[test]
    fn x_forwarded_for_is_walked_as_nginx_realip_walks_it() {
        let r = resolver(ClientIp::XForwardedFor, "10.0.0.0/8,2001:db8:ffff::/48");
        let cases = [
            ("10.0.0.5", "203.0.113.60:4711", "203.0.113.60"),
            ("10.0.0.5", "[2001:db8::1]:443", "2001:db8::1"),
            ("10.0.0.5", "[2001:db8::1]", "2001:db8::1"),
            ("10.0.0.5", "2001:db8::1", "2001:db8::1"),
            // Not an address: the walk stops at the last trusted address, the proxy.
            ("10.0.0.5", "<script>alert(1)</script>", "10.0.0.5"),
            ("10.0.0.5", "unknown", "10.0.0.5"),
            ("10.0.0.5", "203.0.113.9, unknown, 10.1.1.1", "10.1.1.1"),
            ("10.0.0.5", "203.0.113.9, 10.1.1.1:80", "203.0.113.9"),
            ("10.0.0.5", "203.0.113.9:99999", "10.0.0.5"),
            // Trailing commas and spaces are skipped, as nginx skips them.
            ("10.0.0.5", "198.51.100.4 , ", "198.51.100.4"),
            // Every entry trusted: the left-most.
            ("10.0.0.5", "10.9.9.9, 10.8.8.8", "10.9.9.9"),
            ("2001:db8:ffff::2", "198.51.100.7", "198.51.100.7"),
            // An untrusted connection: the header is not believed.
            ("198.51.100.77", "1.1.1.1", "198.51.100.77"),
            // A spoofed left-most entry does not win over the real client nearer to us.
            (
                "10.0.0.5",
                "1.1.1.1, 198.51.100.4, 10.2.2.2",
                "198.51.100.4",
            ),
        ];
        for (remote, xff, want) in cases {
            assert_eq!(
                r.client(Some(remote), Some(xff)),
                Some(want),
                "{remote} / {xff}"
            );
        }
        assert_eq!(r.client(Some("10.0.0.5"), None), Some("10.0.0.5"));
    }

    #[test]
    fn remote_addr_lists_and_host_names_are_kept() {
        let plain = resolver(ClientIp::RemoteAddr, "");
        assert_eq!(
            plain.client(Some("10.0.0.2, 10.0.0.1, 85.181.35.98"), None),
            Some("10.0.0.2")
        );
        assert_eq!(
            plain.client(Some("crawl-66-249-66-1.googlebot.com"), None),
            Some("crawl-66-249-66-1.googlebot.com")
        );
        assert_eq!(
            plain.client(Some("192.0.2.1"), Some("1.2.3.4")),
            Some("192.0.2.1"),
            "header ignored"
        );
        let trusting = resolver(ClientIp::RemoteAddr, "10.0.0.0/8");
        assert_eq!(
            trusting.client(Some("10.0.0.2, 85.181.35.98, 10.0.0.1"), None),
            Some("85.181.35.98")
        );
        // Default trust for x-forwarded-for: private networks.
        let default = resolver(ClientIp::XForwardedFor, "");
        assert_eq!(
            default.client(Some("172.17.0.1"), Some("203.0.113.5")),
            Some("203.0.113.5")
        );
        assert_eq!(default.client(None, Some("203.0.113.5")), None);
    }
}
