//! What the demo traffic is made of: browsers and crawlers, pages and assets, referrers and
//! campaigns, each with its weight (how often it is drawn).

pub(crate) const BROWSERS: &[(&str, u32)] = &[
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        24,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
        9,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36",
        4,
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.7444.102 Mobile Safari/537.36",
        14,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
        12,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15",
        6,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/142.0.7444.77 Mobile/15E148 Safari/604.1",
        2,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
        6,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0",
        2,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:144.0) Gecko/20100101 Firefox/144.0",
        1,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/145.0 Mobile/15E148 Safari/605.1.15",
        1,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0",
        7,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36 OPR/124.0.0.0",
        2,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/29.0 Chrome/136.0.0.0 Mobile Safari/537.36",
        3,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
        1,
    ),
];

pub(crate) const CRAWLERS: &[(&str, u32)] = &[
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        20,
    ),
    (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.7444.59 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        8,
    ),
    (
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        10,
    ),
    (
        "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
        3,
    ),
    (
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        3,
    ),
    (
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        5,
    ),
    (
        "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
        4,
    ),
    (
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        4,
    ),
    (
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
        3,
    ),
    (
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers)",
        4,
    ),
    (
        "NewsBlur Feed Fetcher - 12 subscribers - https://www.newsblur.com/site/123/",
        2,
    ),
    ("UptimeRobot/2.0 (http://www.uptimerobot.com/)", 4),
    ("curl/8.14.1", 2),
    ("python-requests/2.32.5", 2),
    ("Go-http-client/1.1", 1),
];

pub(super) const PAGES: &[(&str, u32)] = &[
    ("/", 30),
    ("/blog/", 12),
    ("/blog/building-a-data-pipeline", 10),
    ("/blog/duckdb-for-log-analytics", 8),
    ("/blog/rust-parsing-at-speed", 6),
    ("/blog/log-rotation-explained", 4),
    ("/about", 5),
    ("/pricing", 6),
    ("/docs/", 6),
    ("/docs/getting-started", 5),
    ("/docs/configuration", 3),
    ("/contact", 2),
    ("/search?q=parquet", 2),
    ("/search?q=visitors+per+day", 1),
    ("/atom.xml", 4),
    ("/robots.txt", 2),
    ("/wp-login.php", 1),
    ("/.env", 1),
];

pub(super) const ASSETS: &[(&str, u32)] = &[
    ("/assets/css/site.css", 10),
    ("/assets/js/app.js", 10),
    ("/assets/js/vendor.min.js", 6),
    ("/assets/img/logo.svg", 8),
    ("/assets/img/hero.webp", 5),
    ("/assets/fonts/inter.woff2", 6),
    ("/favicon.ico", 6),
];

/// Where a visit comes from: none, a search engine (with its query), a link elsewhere.
pub(super) const REFERRERS: &[(&str, u32)] = &[
    ("-", 40),
    ("https://www.google.com/search?q=duckdb+log+analytics", 14),
    ("https://www.google.com/", 12),
    ("https://www.google.de/", 3),
    ("https://www.bing.com/search?q=nginx+visitors+per+day", 5),
    ("https://duckduckgo.com/", 5),
    ("https://search.brave.com/search?q=rust+log+parser", 1),
    ("https://yandex.ru/search/?text=access+log", 1),
    ("https://news.ycombinator.com/", 4),
    ("https://www.reddit.com/r/dataengineering/", 3),
    ("https://t.co/", 2),
    ("https://github.com/", 3),
];

/// Landing-page query strings of marketing campaigns (a few visits arrive through them).
pub(super) const CAMPAIGNS: &[(&str, u32)] = &[
    (
        "utm_source=newsletter&utm_medium=email&utm_campaign=december",
        5,
    ),
    (
        "utm_source=twitter&utm_medium=social&utm_campaign=launch",
        3,
    ),
    ("utm_source=google&utm_medium=cpc&utm_campaign=brand", 2),
];
