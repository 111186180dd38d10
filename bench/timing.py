"""The times file the bench scripts write (`LABEL SECONDS PEAK_RSS_KIB` a line), read once."""
import statistics


class Times:
    def __init__(self, path):
        self.rows = {}
        for line in open(path):
            label, secs, rss = line.split()
            self.rows.setdefault(label, []).append((float(secs), int(rss)))

    def __contains__(self, label):
        return label in self.rows

    def med(self, label):
        return statistics.median(s for s, _ in self.rows[label])

    def span(self, label):
        """Median [min–max] in seconds, or the one time."""
        secs = [s for s, _ in self.rows[label]]
        return f"{self.med(label):.2f} s [{min(secs):.2f}–{max(secs):.2f}]" if len(secs) > 1 else f"{secs[0]:.2f} s"

    def rss(self, label):
        """Peak RSS in MiB over the runs."""
        return max(r for _, r in self.rows[label]) / 1024
