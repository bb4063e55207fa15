#!/usr/bin/env python3
"""Turns kvs-hitratio's and HitRatio.java's tab-separated lines into the markdown table of
BENCHMARKS.md ("Hit ratio against Caffeine") and a self-contained SVG chart (one panel a
trace: hit ratio against cache size, one line a policy). Standard library only.

Usage: hit-ratio-report.py RESULTS.tsv... --table OUT.md --svg OUT.svg [--default W-TinyLFU]
"""

import argparse
import collections
import html

COLUMNS = ["LRU", "SIEVE", "S3-FIFO", "W-TinyLFU/HC", "W-TinyLFU", "W-TinyLFU×64", "Caffeine"]
COLORS = {
    "LRU": "#7f7f7f",
    "SIEVE": "#2ca02c",
    "S3-FIFO": "#9467bd",
    "W-TinyLFU/HC": "#ff7f0e",
    "W-TinyLFU": "#d62728",
    "W-TinyLFU×64": "#ff9896",
    "Caffeine": "#1f77b4",
}
TRACE_ORDER = ["loop", "multi1", "multi2", "multi3", "sprite", "2_pools", "gli", "cs", "ps", "zigzag", "scan",
               "web07", "web12", "orm-busy"]


def load(paths):
    """(trace, percent) -> {column: ratio}, and (trace, percent) -> capacity."""
    rows = collections.defaultdict(dict)
    capacity = {}
    for path in paths:
        with open(path) as lines:
            for line in lines:
                fields = line.rstrip("\n").split("\t")
                if len(fields) != 8:
                    continue
                trace, size, percent, policy, shards, _, _, ratio = fields
                key = (trace, int(percent))
                capacity[key] = int(size)
                column = policy if shards == "1" else f"{policy}×{shards}"
                rows[key][column] = float(ratio)
    return rows, capacity


def order(key):
    trace, percent = key
    rank = TRACE_ORDER.index(trace) if trace in TRACE_ORDER else len(TRACE_ORDER)
    return (rank, trace, percent)


def table(rows, capacity, default):
    out = ["| trace | size | % distinct | " + " | ".join(COLUMNS) + " | target | margin |",
           "| --- | ---: | ---: | " + " | ".join("---:" for _ in COLUMNS) + " | ---: | ---: |"]
    misses = []
    margins = []
    for key in sorted(rows, key=order):
        row = rows[key]
        cells = [f"{row[c]:.2f}" if c in row else "–" for c in COLUMNS]
        target = max(row.get("Caffeine", 0), row.get("LRU", 0)) - 1
        margin = row.get(default, 0) - target
        margins.append(margin)
        if margin < 0:
            misses.append((key, margin))
        out.append(f"| {key[0]} | {capacity[key]} | {key[1]} | " + " | ".join(cells)
                   + f" | {target:.2f} | {margin:+.2f} |")
    means = {c: sum(r.get(c, 0) for r in rows.values()) / len(rows) for c in COLUMNS}
    out.append("| **mean** | | | " + " | ".join(f"**{means[c]:.2f}**" for c in COLUMNS) + " | | |")
    return "\n".join(out) + "\n", misses, means


def svg(rows, path):
    traces = sorted({t for t, _ in rows}, key=lambda t: order((t, 0)))
    columns, width, height, pad = 4, 300, 210, 40
    panel_rows = (len(traces) + columns - 1) // columns
    total_w, total_h = columns * width, panel_rows * height + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" '
             f'font-family="sans-serif" font-size="11">', f'<rect width="{total_w}" height="{total_h}" fill="white"/>']
    x = 10
    for column in COLUMNS:
        parts.append(f'<rect x="{x}" y="10" width="12" height="12" fill="{COLORS[column]}"/>'
                     f'<text x="{x + 16}" y="20">{html.escape(column)}</text>')
        x += 120
    for index, trace in enumerate(traces):
        ox, oy = (index % columns) * width, 40 + (index // columns) * height
        percents = sorted(p for t, p in rows if t == trace)
        plot_w, plot_h = width - pad - 15, height - pad - 25
        left, top = ox + pad, oy + 20

        def px(i):
            return left + (plot_w * i / max(1, len(percents) - 1))

        def py(ratio):
            return top + plot_h * (1 - ratio / 100)

        parts.append(f'<text x="{ox + width / 2}" y="{oy + 12}" text-anchor="middle" '
                     f'font-weight="bold">{html.escape(trace)}</text>')
        parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#ccc"/>')
        for tick in (0, 50, 100):
            parts.append(f'<text x="{left - 4}" y="{py(tick) + 4}" text-anchor="end">{tick}</text>')
        for i, percent in enumerate(percents):
            parts.append(f'<text x="{px(i)}" y="{top + plot_h + 14}" text-anchor="middle">{percent}%</text>')
        for column in COLUMNS:
            points = [(px(i), py(rows[(trace, p)][column])) for i, p in enumerate(percents)
                      if column in rows[(trace, p)]]
            if points:
                coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in points)
                parts.append(f'<polyline points="{coords}" fill="none" stroke="{COLORS[column]}" stroke-width="1.5"/>')
    parts.append("</svg>")
    with open(path, "w") as out:
        out.write("\n".join(parts) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results", nargs="+")
    parser.add_argument("--table", required=True)
    parser.add_argument("--svg", required=True)
    parser.add_argument("--default", default="W-TinyLFU")
    args = parser.parse_args()
    rows, capacity = load(args.results)
    text, misses, means = table(rows, capacity, args.default)
    summary = [f"Default policy: {args.default}. Target: at least max(Caffeine, LRU) − 1 point on every row, "
               f"and a mean above Caffeine's. Mean: {args.default} {means[args.default]:.2f}, "
               f"Caffeine {means['Caffeine']:.2f}, LRU {means['LRU']:.2f}.",
               "Rows under the target: " + (", ".join(f"{t} {p}% ({m:+.2f})" for (t, p), m in misses) or "none") + "."]
    with open(args.table, "w") as out:
        out.write(text + "\n" + "\n\n".join(summary) + "\n")
    svg(rows, args.svg)
    print("\n".join(summary))


if __name__ == "__main__":
    main()
