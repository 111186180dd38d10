//! User-agent classification with uap-core's regexes (via the `ua-parser` crate) and the
//! crawler-user-agents list. Both data sets are vendored in `vendor/` and built into the
//! binary: nothing is read at run time.

use regex::RegexSet;

use super::uap::{self, LazyParsers};

const UAP_REGEXES: &str = include_str!("vendor/uap-regexes.yaml");
const CRAWLERS: &str = include_str!("vendor/crawler-user-agents.json");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UaInfo {
    pub browser_family: String,
    pub browser_major: Option<String>,
    pub os_family: String,
    pub device_family: String,
    pub is_bot: bool,
}

impl UaInfo {
    pub fn unknown() -> Self {
        UaInfo {
            browser_family: "Other".into(),
            browser_major: None,
            os_family: "Other".into(),
            device_family: "Other".into(),
            is_bot: false,
        }
    }
}

pub struct UaClassifier {
    browsers: LazyParsers<uap::UserAgent>,
    systems: LazyParsers<uap::Os>,
    devices: LazyParsers<uap::Device>,
    crawlers: RegexSet,
    /// GoAccess's heuristic: a `+http(s)://` contact URL in an agent marks a crawler.
    contact_url: regex::Regex,
}

fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

#[derive(serde::Deserialize)]
struct CrawlerEntry {
    pattern: String,
}

impl UaClassifier {
    /// Reads the vendored regexes: uap-core's are compiled as agents need them (see
    /// [`uap`]), the crawler list at once; the four lists are read on their own threads.
    pub fn new() -> Self {
        let started = std::time::Instant::now();
        let regexes: ua_parser::Regexes<'static> =
            serde_yaml::from_str(UAP_REGEXES).expect("vendored uap-core regexes.yaml parses");
        let ua_parser::Regexes {
            user_agent_parsers,
            os_parsers,
            device_parsers,
        } = regexes;
        let classifier = std::thread::scope(|s| {
            let browsers = s.spawn(|| LazyParsers::new(user_agent_parsers));
            let systems = s.spawn(|| LazyParsers::new(os_parsers));
            let devices = s.spawn(|| LazyParsers::new(device_parsers));
            let entries: Vec<CrawlerEntry> =
                serde_json::from_str(CRAWLERS).expect("vendored crawler-user-agents.json parses");
            let crawlers = RegexSet::new(entries.iter().map(|e| &e.pattern))
                .expect("crawler patterns compile");
            UaClassifier {
                browsers: join(browsers),
                systems: join(systems),
                devices: join(devices),
                crawlers,
                contact_url: regex::Regex::new(r"\+https?://").unwrap(),
            }
        });
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "user-agent regexes read"
        );
        classifier
    }

    pub fn classify(&mut self, agent: &str) -> UaInfo {
        let (browser_family, browser_major) = self
            .browsers
            .extract(agent)
            .unwrap_or_else(|| ("Other".to_string(), None));
        let os_family = self
            .systems
            .extract(agent)
            .unwrap_or_else(|| "Other".to_string());
        let device_family = self
            .devices
            .extract(agent)
            .unwrap_or_else(|| "Other".to_string());
        // The bots output names crawlers from browser_family/agent in SQL, so only the flag is kept.
        let is_bot = device_family == "Spider"
            || self.crawlers.is_match(agent)
            || self.contact_url.is_match(agent);
        UaInfo {
            browser_family,
            browser_major,
            os_family,
            device_family,
            is_bot,
        }
    }
}

impl Default for UaClassifier {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_of_todays_browsers_and_bots() {
        let mut c = UaClassifier::new();
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
                "Chrome",
                "Windows",
                false,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0",
                "Edge",
                "Windows",
                false,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36 OPR/124.0.0.0",
                "Opera",
                "Windows",
                false,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
                "Mobile Safari",
                "iOS",
                false,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0",
                "Firefox",
                "Linux",
                false,
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/29.0 Chrome/136.0.0.0 Mobile Safari/537.36",
                "Samsung Internet",
                "Android",
                false,
            ),
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                "Googlebot",
                "Other",
                true,
            ),
            (
                "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
                "bingbot",
                "Other",
                true,
            ),
        ];
        for (agent, browser, os, bot) in cases {
            let info = c.classify(agent);
            assert_eq!(info.browser_family, browser, "{agent}");
            assert_eq!(info.os_family, os, "{agent}");
            assert_eq!(info.is_bot, bot, "{agent}");
        }
        let feed = c.classify("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers)");
        assert!(feed.is_bot);
        let curl = c.classify("curl/8.14.1");
        assert!(curl.is_bot, "curl is in the crawler list");
        assert_eq!(
            c.classify("Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0")
                .browser_major
                .as_deref(),
            Some("145")
        );
    }
}
