"""Unit tests of the lake's reader rule (wlspark.lake) and of the incremental job's plan
(wlspark.state): which files a reader reads, which days a run recomputes. No JVM."""

from __future__ import annotations

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wlspark import lake, state  # noqa: E402

W = "0123456789ab"


def plain(seq: int, host: str = "web-1", w: str = W) -> str:
    return f"part-{host}-{w}-{seq}.parquet"


def comp(lo: int, hi: int, host: str = "web-1", w: str = W) -> str:
    return f"part-{host}-{w}-c{lo}-{hi}.parquet"


class ReaderRule(unittest.TestCase):
    def test_names(self):
        self.assertEqual(lake.parse_name(plain(7)), lake.LakeName(plain(7), f"web-1-{W}", 7, 7, False))
        self.assertEqual(lake.parse_name(comp(3, 9)), lake.LakeName(comp(3, 9), f"web-1-{W}", 3, 9, True))
        # Before warehouse ids (part-<host>-<seq>): a host ending in -c1 is not compacted.
        self.assertFalse(lake.parse_name("part-web-c1-5.parquet").compacted)
        self.assertEqual(lake.parse_name("part-web1-000001.parquet").prefix, "web1")
        self.assertIsNone(lake.parse_name("other.parquet"))
        self.assertIsNone(lake.parse_name(f".{plain(7)}.tmp-123"))

    def test_compacted_file_supersedes_its_range_of_its_own_prefix(self):
        names = [plain(1), plain(2), comp(1, 2), plain(3), plain(2, w="ffffffffffff"),
                 plain(2, host="web-2"), "notes.parquet"]
        self.assertEqual(lake.live_names(names), [comp(1, 2), plain(3), plain(2, w="ffffffffffff"),
                                                  plain(2, host="web-2"), "notes.parquet"])

    def test_larger_range_wins(self):
        self.assertEqual(lake.live_names([comp(1, 4), comp(1, 9), plain(9), plain(10)]),
                         [comp(1, 9), plain(10)])

    def test_a_range_the_wrong_way_is_not_compacted(self):
        # lo > hi: a plain name (a warehouse id that happens to look like c<digits>).
        p = lake.parse_name("part-web-1-c12345678901-7.parquet")
        self.assertFalse(p.compacted)


def files(*names, host="web-1", size=100):
    return [[f"host={host}/{n}", size] for n in names]


class DayDiff(unittest.TestCase):
    def test_same_files(self):
        self.assertTrue(state.day_unchanged(files(plain(1), plain(2)), files(plain(1), plain(2))))

    def test_compaction_changes_names_not_rows(self):
        old = files(plain(1), plain(2), plain(5))
        self.assertTrue(state.day_unchanged(old, files(comp(1, 5), size=250)))
        # A crash between the rename and the deletions: both there (the reader rule leaves
        # the compacted one, but the plan must not care either way).
        self.assertTrue(state.day_unchanged(old, files(comp(1, 2), plain(5))))

    def test_a_new_batch_changes_the_day(self):
        self.assertFalse(state.day_unchanged(files(comp(1, 5)), files(comp(1, 5), plain(9))))
        # … also once compacted with the old file: its range goes past what the state saw.
        self.assertFalse(state.day_unchanged(files(comp(1, 5)), files(comp(1, 9))))
        # … or on another host, or from another warehouse.
        self.assertFalse(state.day_unchanged(files(comp(1, 5)), files(comp(1, 5)) + files(plain(2), host="web-2")))
        self.assertFalse(state.day_unchanged(files(comp(1, 5)), files(comp(1, 5), comp(1, 5, w="ffffffffffff"))))

    def test_a_gone_or_rewritten_file_changes_the_day(self):
        self.assertFalse(state.day_unchanged(files(plain(1), plain(2)), files(plain(2))))
        self.assertFalse(state.day_unchanged(files(plain(1)), files(plain(1), size=99)))
        self.assertFalse(state.day_unchanged(files("x.parquet"), files("y.parquet")))


class Plan(unittest.TestCase):
    LAKE = {"2024-01-01": [("host=web-1/" + comp(1, 3), 10)], "2024-01-02": [("host=web-1/" + plain(4), 5)]}

    def manifest(self, days, h="h"):
        return state.parse_manifest(state.manifest_text(h, days, {"daily": {"schema": "{}", "columns": ["day"]}}))

    def test_no_state_recomputes_every_day(self):
        self.assertEqual(state.plan(None, self.LAKE, "h"), (["2024-01-01", "2024-01-02"], [], "no state yet"))

    def test_only_the_changed_days(self):
        m = self.manifest(self.LAKE)
        self.assertEqual(state.plan(m, self.LAKE, "h"), ([], [], None))
        now = dict(self.LAKE, **{"2024-01-02": [("host=web-1/" + plain(4), 5), ("host=web-1/" + plain(5), 5)],
                                 "2024-01-03": [("host=web-1/" + plain(5), 7)]})
        self.assertEqual(state.plan(m, now, "h"), (["2024-01-02", "2024-01-03"], [], None))

    def test_days_gone_from_the_lake_go_from_the_state(self):
        m = self.manifest(self.LAKE)
        self.assertEqual(state.plan(m, {"2024-01-02": self.LAKE["2024-01-02"]}, "h"), ([], ["2024-01-01"], None))

    def test_a_pruned_day_keeps_its_state(self):
        # weblog prune deleted a day's files (all of them, or one warehouse's of several):
        # its state stays as computed, and stays listed so that it is read.
        both = dict(self.LAKE, **{"2024-01-01": self.LAKE["2024-01-01"] + [("host=web-2/" + plain(2, "web-2"), 4)]})
        m = self.manifest(both)
        for now in ({"2024-01-02": both["2024-01-02"]},
                    dict(both, **{"2024-01-01": [("host=web-2/" + plain(2, "web-2"), 4)]})):
            kept = state.with_pruned_days(m, now, "h")
            self.assertEqual(kept["2024-01-01"], both["2024-01-01"])
            self.assertEqual(state.plan(m, kept, "h"), ([], [], None))
            # The next run sees the same: nothing to do again.
            again = self.manifest(kept)
            self.assertEqual(state.plan(again, state.with_pruned_days(again, now, "h"), "h"), ([], [], None))

    def test_a_day_with_a_new_or_rewritten_file_is_recomputed_not_kept(self):
        m = self.manifest(self.LAKE)
        # weblog forget rewrote a file (another size), or a late batch came: recomputed.
        for files in ([("host=web-1/" + comp(1, 3), 9)], [("host=web-1/" + plain(9), 3)]):
            now = dict(self.LAKE, **{"2024-01-01": files})
            kept = state.with_pruned_days(m, now, "h")
            self.assertEqual(kept, now)
            self.assertEqual(state.plan(m, kept, "h")[0], ["2024-01-01"])
        # A state of other SQL is recomputed from the files there are: nothing is kept.
        self.assertEqual(state.with_pruned_days(m, {}, "other"), {})

    def test_changed_sql_or_timeout_recomputes_everything_and_says_why(self):
        changed, removed, why = state.plan(self.manifest(self.LAKE), self.LAKE, "other")
        self.assertEqual((changed, removed), (["2024-01-01", "2024-01-02"], []))
        self.assertIn("visit timeout", why)
        self.assertIn("recomputing all 2 days", state.days_line(changed, 2, why))

    def test_hash_depends_on_every_part(self):
        parts = [("rollups/daily", "SELECT 1"), ("visit_timeout_s", "1800.0")]
        self.assertEqual(state.state_hash(parts), state.state_hash(list(reversed(parts))))
        self.assertNotEqual(state.state_hash(parts), state.state_hash([parts[0], ("visit_timeout_s", "600.0")]))

    def test_unreadable_manifest_is_none(self):
        self.assertIsNone(state.parse_manifest("{"))
        self.assertIsNone(state.parse_manifest('{"days": []}'))
        self.assertIsNone(state.parse_manifest(None))

    def test_days_line(self):
        self.assertEqual(state.days_line(["2024-01-02"], 5, None), "weblog-spark: 1 of 5 days changed: 2024-01-02")
        self.assertEqual(state.days_line([], 5, None), "weblog-spark: 0 of 5 days changed")


if __name__ == "__main__":
    unittest.main()
