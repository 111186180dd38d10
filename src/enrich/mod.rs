//! Enrichment at ingest: what a user agent is (browser, OS, device, bot) and, with a GeoIP
//! database, where an address is. Both are cached per distinct value: a log has few
//! distinct agents and addresses, so the cost does not grow with the number of lines. The
//! caches are bounded (a hostile or huge log can have millions of distinct agents): two
//! generations, the older dropped when the newer fills, so what is still used stays.

pub mod anonymize;
pub mod client;
pub mod geo;
mod ua;
mod uap;
pub mod visitor_id;

use std::collections::HashMap;
use std::sync::Arc;

pub use anonymize::AnonymizeIp;
pub use client::{ClientIp, ClientResolver};
pub use geo::GeoIp;
pub use ua::{UaClassifier, UaInfo};
pub use visitor_id::{DailySalts, VisitorId};

/// Distinct agents kept per generation (a classification costs ~20 µs; an entry ~300 bytes).
const AGENTS_PER_GENERATION: usize = 20_000;
/// Distinct addresses kept per generation (an entry ~80 bytes).
const ADDRESSES_PER_GENERATION: usize = 100_000;

/// xxh3 for the caches' keys: looked up once per line, where SipHash cost 0.6% of a backfill.
type Keys = xxhash_rust::xxh3::Xxh3Builder;

/// A map that holds at most two generations of `per_generation` entries.
struct Bounded<V> {
    current: HashMap<String, V, Keys>,
    previous: HashMap<String, V, Keys>,
    per_generation: usize,
}

impl<V: Clone> Bounded<V> {
    fn new(per_generation: usize) -> Self {
        Bounded {
            current: HashMap::default(),
            previous: HashMap::default(),
            per_generation: per_generation.max(1),
        }
    }

    fn get(&mut self, key: &str) -> Option<V> {
        if let Some(v) = self.current.get(key) {
            return Some(v.clone());
        }
        let v = self.previous.remove(key)?;
        self.insert(key, v.clone());
        Some(v)
    }

    fn insert(&mut self, key: &str, value: V) {
        if self.current.len() >= self.per_generation {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(key.to_string(), value);
    }

    fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

/// Per-run enrichment state: the classifiers (built on first use) and their caches.
pub struct Enricher {
    ua: Option<UaClassifier>,
    agents: Bounded<Arc<UaInfo>>,
    no_agent: Arc<UaInfo>,
    geo: Option<GeoIp>,
    countries: Bounded<Option<Arc<str>>>,
    client: ClientResolver,
    anonymize: AnonymizeIp,
    /// `--visitor-id hashed`: the daily salts.
    salts: Option<DailySalts>,
}

impl Enricher {
    pub fn new(geo: Option<GeoIp>, client: ClientResolver) -> Self {
        let mut e = Self::with_capacity(geo, AGENTS_PER_GENERATION, ADDRESSES_PER_GENERATION);
        e.client = client;
        e
    }

    fn with_capacity(geo: Option<GeoIp>, agents: usize, addresses: usize) -> Self {
        Enricher {
            ua: None,
            agents: Bounded::new(agents),
            no_agent: Arc::new(UaInfo::unknown()),
            geo,
            countries: Bounded::new(addresses),
            client: ClientResolver::default(),
            anonymize: AnonymizeIp::Off,
            salts: None,
        }
    }

    /// Mask addresses (see [`anonymize`]) in what the parse stage stores; the country is
    /// still looked up from the full address.
    pub fn with_anonymize(mut self, level: AnonymizeIp) -> Self {
        self.anonymize = level;
        self
    }

    pub fn anonymize(&self) -> AnonymizeIp {
        self.anonymize
    }

    /// Key visitors by a salted hash of their address (see [`visitor_id`]).
    pub fn with_salts(mut self, salts: DailySalts) -> Self {
        self.salts = Some(salts);
        self
    }

    /// What is stored as a row's client address: the address, or with `--visitor-id hashed`
    /// its key for the row's day.
    pub fn visitor_key(&mut self, day: i32, client: &str) -> Option<String> {
        self.salts.as_mut().map(|s| s.key(day, client))
    }

    /// The daily salts drawn since the last call (for the batch that used them).
    pub fn take_drawn_salts(&mut self) -> Vec<(i32, visitor_id::Salt)> {
        self.salts
            .as_mut()
            .map(DailySalts::take_drawn)
            .unwrap_or_default()
    }

    /// The visitor's address of a line (see [`client`]): a slice of one of the two.
    pub fn client<'a>(
        &self,
        remote_addr: Option<&'a str>,
        x_forwarded_for: Option<&'a str>,
    ) -> Option<&'a str> {
        self.client.client(remote_addr, x_forwarded_for)
    }

    /// Browser, OS, device and bot flag of a user agent (NULL agent: all "Other", not a bot).
    pub fn agent(&mut self, agent: Option<&str>) -> Arc<UaInfo> {
        let Some(agent) = agent else {
            return self.no_agent.clone();
        };
        if let Some(info) = self.agents.get(agent) {
            return info;
        }
        let classifier = self.ua.get_or_insert_with(UaClassifier::new);
        let info = Arc::new(classifier.classify(agent));
        self.agents.insert(agent, info.clone());
        info
    }

    /// ISO country code of an address, when a GeoIP database is loaded and knows it.
    pub fn country(&mut self, addr: Option<&str>) -> Option<Arc<str>> {
        let (geo, addr) = (self.geo.as_ref()?, addr?);
        if let Some(c) = self.countries.get(addr) {
            return c;
        }
        let c = geo.country(addr);
        self.countries.insert(addr, c.clone());
        c
    }

    /// Entries held in the caches (agents, addresses).
    pub fn cached(&self) -> (usize, usize) {
        (self.agents.len(), self.countries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_stay_bounded_and_answers_stay_right() {
        let mut e = Enricher::with_capacity(None, 100, 100);
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36";
        for i in 0..1_000 {
            let info = e.agent(Some(&format!("SomeCrawler/{i} (+http://example.com/bot)")));
            assert!(info.is_bot);
            // A value in constant use survives every generation change.
            assert_eq!(e.agent(Some(chrome)).browser_family, "Chrome");
            assert!(e.cached().0 <= 200, "{} agents cached", e.cached().0);
        }
        assert!(e.cached().0 > 100, "both generations are used");
    }
}
