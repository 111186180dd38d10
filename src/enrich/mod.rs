//! Enrichment at ingest: what a user agent is (browser, OS, device, bot) and, with a GeoIP
//! database, where an address is. Both are cached per distinct value: a log has few
//! distinct agents and addresses, so the cost does not grow with the number of lines.

pub mod geo;
mod ua;

use std::collections::HashMap;
use std::sync::Arc;

pub use geo::GeoIp;
pub use ua::{UaClassifier, UaInfo};

/// Per-run enrichment state: the classifiers (built on first use) and their caches.
pub struct Enricher {
    ua: Option<UaClassifier>,
    agents: HashMap<String, Arc<UaInfo>>,
    no_agent: Arc<UaInfo>,
    geo: Option<GeoIp>,
    countries: HashMap<String, Option<Arc<str>>>,
}

impl Enricher {
    pub fn new(geo: Option<GeoIp>) -> Self {
        Enricher {
            ua: None,
            agents: HashMap::new(),
            no_agent: Arc::new(UaInfo::unknown()),
            geo,
            countries: HashMap::new(),
        }
    }

    /// Browser, OS, device and bot flag of a user agent (NULL agent: all "Other", not a bot).
    pub fn agent(&mut self, agent: Option<&str>) -> Arc<UaInfo> {
        let Some(agent) = agent else {
            return self.no_agent.clone();
        };
        if let Some(info) = self.agents.get(agent) {
            return info.clone();
        }
        let classifier = self.ua.get_or_insert_with(UaClassifier::new);
        let info = Arc::new(classifier.classify(agent));
        self.agents.insert(agent.to_string(), info.clone());
        info
    }

    /// ISO country code of an address, when a GeoIP database is loaded and knows it.
    pub fn country(&mut self, addr: Option<&str>) -> Option<Arc<str>> {
        let (geo, addr) = (self.geo.as_ref()?, addr?);
        if let Some(c) = self.countries.get(addr) {
            return c.clone();
        }
        let c = geo.country(addr);
        self.countries.insert(addr.to_string(), c.clone());
        c
    }
}
