-- Functions the rollups and outputs share. Defined for DuckDB here; the Spark job defines
-- the same from this file (spark/weblog_spark.py). Values set per run (the --from, --to,
-- --humans-only, --site-host, --vhost and --visit-timeout flags) are read with getvariable.

-- --from / --to: is day d in the range the outputs cover?
CREATE OR REPLACE TEMP MACRO in_range(d) AS
    d BETWEEN coalesce(getvariable('weblog_from'), DATE '0001-01-01')
          AND coalesce(getvariable('weblog_to'), DATE '9999-12-31');

-- --humans-only: count humans (bots left out) instead of all traffic.
CREATE OR REPLACE TEMP MACRO humans_only() AS coalesce(getvariable('weblog_humans_only'), false);
CREATE OR REPLACE TEMP MACRO pick(all_traffic, humans) AS
    CASE WHEN humans_only() THEN humans ELSE all_traffic END;

-- --vhost: the site the outputs are about (NULL: all of them together).
CREATE OR REPLACE TEMP MACRO vhost_filter() AS getvariable('weblog_vhost');

-- --vhost: the rows of one site, else the rows of all sites together. Rollups keep both:
-- all_vhosts rows count every request once; the others (for_vhost set) count one site's.
CREATE OR REPLACE TEMP MACRO in_vhost(all_vhosts, for_vhost) AS
    CASE WHEN vhost_filter() IS NULL THEN all_vhosts
         ELSE NOT all_vhosts AND for_vhost = vhost_filter() END;

-- --site-host (several allowed, or the host found to refer most of the site's requests):
-- is this referring host one of the site's own, or a subdomain of one? weblog passes the
-- hosts as one anchored pattern, e.g. ^(.*\.)?(example\.com|example\.org)$.
CREATE OR REPLACE TEMP MACRO is_site_host(h) AS
    h IS NOT NULL AND getvariable('weblog_site_hosts_re') IS NOT NULL
    AND regexp_matches(h, getvariable('weblog_site_hosts_re'));

-- A static asset (not a page), by the extension of its path.
CREATE OR REPLACE TEMP MACRO is_static_path(p) AS
    regexp_matches(lower(split_part(p, '?', 1)),
        '\.(css|js|mjs|map|png|jpe?g|gif|svg|webp|avif|ico|bmp|woff2?|ttf|otf|eot)$');

-- A request that can be a page view: a successful GET or HEAD (not a redirect or error).
-- A page view is such a request for a page, not a static asset (is_static_path).
CREATE OR REPLACE TEMP MACRO is_page_request(method, status) AS
    method IN ('GET', 'HEAD') AND status BETWEEN 200 AND 299;

-- The host of a URL (lower-cased), or NULL.
CREATE OR REPLACE TEMP MACRO url_host(u) AS
    nullif(lower(regexp_extract(u, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1)), '');

-- A query-string parameter of a path (`utm_source` of `/p?utm_source=x&…`), or NULL.
CREATE OR REPLACE TEMP MACRO query_param(p, name) AS
    nullif(regexp_extract(p, '[?&]' || name || '=([^&#]*)', 1), '');

-- ISO day of the week: 1 = Monday … 7 = Sunday.
CREATE OR REPLACE TEMP MACRO iso_weekday(d) AS isodow(d);

-- A visitor as one 64-bit key: (client address, user agent) hashed.
CREATE OR REPLACE TEMP MACRO visitor_key(addr, agent) AS hash(addr, agent);

-- The instant as microseconds since the epoch, and the visit timeout (--visit-timeout).
CREATE OR REPLACE TEMP MACRO ts_us(t) AS epoch_us(t);
CREATE OR REPLACE TEMP MACRO visit_timeout_us() AS getvariable('weblog_visit_timeout_us');

-- Between the values lo and hi, the point the fraction of the rank `pos` past its floor
-- of the way: how quantile_cont interpolates, to the last bit.
CREATE OR REPLACE TEMP MACRO lerp(lo, hi, pos) AS
    lo * (1.0 - (pos - floor(pos))) + hi * (pos - floor(pos));
