"""Table formatting: one table object rendered as aligned text (terminal) or markdown."""

import statistics


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def percentile(values, p):
    """Nearest-rank p-th percentile (p in 0..100); None for no values."""
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    k = max(0, min(len(values) - 1, -(-len(values) * p // 100) - 1))
    return values[int(k)]


def spread(values):
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return None
    m = statistics.median(values)
    return (max(values) - min(values)) / m * 100 if m else None


def fmt(v, kind):
    if v is None:
        return "-"
    if kind == "int":
        return f"{v:,.0f}"
    if kind == "k":
        return f"{v / 1000:,.1f}k"
    if kind == "f1":
        return f"{v:.1f}"
    if kind == "f3":
        return f"{v:.3f}"
    if kind == "f2":
        return f"{v:.2f}"
    if kind in ("pct", "pct0"):
        return f"{v:.1f}%"
    if kind in ("ratio", "x"):  # "x": a ratio column in an ordinary row
        return f"{v:.2f}x"
    if kind == "s":
        return f"{v:.2f} s"
    if kind == "mb":
        return f"{v / 1024:,.0f} MB"
    return str(v)


class Table:
    def __init__(self, columns):
        self.columns = columns  # list of (title, kind); kind "pct0": no ratio row
        self.rows = []  # (label, [values], is_ratio)

    def add(self, label, values, ratio=False):
        self.rows.append((label, values, ratio))

    def add_ratio(self, label, num, den):
        """num/den per column; None where either is missing."""
        vals = []
        for (_, kind), a, b in zip(self.columns, num, den):
            ok = kind not in ("pct0", "str") and a is not None and b not in (None, 0)
            vals.append(a / b if ok else None)
        self.add(label, vals, ratio=True)

    def cells(self):
        head = [""] + [c[0] for c in self.columns]
        body = []
        for label, vals, ratio in self.rows:
            body.append([label] + [fmt(v, "ratio" if ratio else k) for v, (_, k) in zip(vals, self.columns)])
        return head, body

    def text(self):
        head, body = self.cells()
        w = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
        left = [True] + [k == "str" for _, k in self.columns]  # text columns read better left-aligned
        line = lambda r: "  ".join(c.ljust(w[i]) if left[i] else c.rjust(w[i]) for i, c in enumerate(r))
        out = [line(head), "  ".join("-" * x for x in w)]
        out += [line(r) for r in body]
        return "\n".join(out)

    def markdown(self):
        head, body = self.cells()
        out = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in body]
        return "\n".join(out)
