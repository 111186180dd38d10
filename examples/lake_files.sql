-- The files of a weblog lake a reader reads, by the lake's reader rule (README, "Scaling
-- out"; spark/README.md, "The lake"): a file `part-P-<seq>.parquet` or
-- `part-P-c<a>-<b>.parquet` is superseded by a file `part-P-c<lo>-<hi>.parquet` of the same
-- `day=…/host=…` folder and prefix P (host and warehouse id) with lo <= a and b <= hi; a
-- compacted file's P ends in its warehouse's 12-hex-digit id. Read the lake in two steps, so
-- that the rows come from exactly the files listed (a file a compaction removes in between
-- makes the read fail, never count a row twice or miss one):
--
--   .read examples/lake_files.sql
--   SET VARIABLE lake_files = (SELECT list(file ORDER BY file) FROM lake_files('/srv/lake'));
--   SELECT day, host, count(*) FROM read_parquet(getvariable('lake_files'), hive_partitioning = true,
--       hive_types = {'day': DATE, 'host': VARCHAR}, union_by_name = true) GROUP BY ALL ORDER BY ALL;
CREATE OR REPLACE MACRO lake_files(lake) AS TABLE
WITH listed AS (
    SELECT
        file,
        regexp_extract(file, '^(.*)/part-(.+-[0-9a-f]{12})-c([0-9]+)-([0-9]+)\.parquet$',
                       ['dir', 'prefix', 'lo', 'hi']) AS c,
        regexp_extract(file, '^(.*)/part-(.+)-([0-9]+)\.parquet$', ['dir', 'prefix', 'seq']) AS p
    FROM glob(lake || '/logs/day=*/host=*/part-*.parquet')
), named AS (
    SELECT file, c.prefix <> '' AND TRY_CAST(c.lo AS BIGINT) <= TRY_CAST(c.hi AS BIGINT) AS compacted, c, p
    FROM listed
    WHERE p.prefix <> ''
), files AS (
    SELECT
        file,
        compacted,
        CASE WHEN compacted THEN c.dir ELSE p.dir END AS dir,
        CASE WHEN compacted THEN c.prefix ELSE p.prefix END AS prefix,
        TRY_CAST(CASE WHEN compacted THEN c.lo ELSE p.seq END AS BIGINT) AS lo,
        TRY_CAST(CASE WHEN compacted THEN c.hi ELSE p.seq END AS BIGINT) AS hi
    FROM named
)
SELECT f.file
FROM files f
WHERE NOT EXISTS (
    SELECT 1 FROM files b
    WHERE b.compacted AND b.dir = f.dir AND b.prefix = f.prefix AND b.file <> f.file
      AND b.lo <= f.lo AND f.hi <= b.hi
);
