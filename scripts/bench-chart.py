#!/usr/bin/env python3
"""The benchmark targets' table and chart, from a results folder of scripts/bench-all.sh.

    python3 scripts/bench-chart.py RESULTS_DIR [-o chart.png]   # the chart (PNG)
    python3 scripts/bench-chart.py --table RESULTS_DIR          # the table, plain text
    python3 scripts/bench-chart.py --markdown RESULTS_DIR       # the run header and the table, Markdown
    python3 scripts/bench-chart.py --markdown RESULTS_DIR --update BENCHMARKS.md   # ... into BENCHMARKS.md

RESULTS_DIR holds medians.txt ("PROGRAM WORKLOAD THREADS FIGURE" lines: the medians of one
run) and header.txt (the machine and the run). Each row of the table is one benchmark
target: our figure, the reference's, the ratio ours / reference, the target, met or not.

The chart needs matplotlib (pip install matplotlib, or apt-get install python3-matplotlib);
the tables need nothing beyond Python 3.
"""

import argparse
import os
import re
import sys

REFERENCES = ["go-seed-design", "java-chm", "rust-dashmap", "cpp-libcuckoo"]
SNAP_KEYS = 1_000_000
BEST = "best"  # the best of the references present in the run, for that workload

# Each row: group, label, our (program, workload, threads), the reference (the same, or
# BEST, or a number: an absolute limit), the unit, "higher" or "lower" is better, the
# target ratio (None: for information, no target), and how the target is worded.
ROWS = [
    ("library vs references", "R90, 2 threads", ("kvs-swift", "R90", "2"), BEST, "ops/s", "higher", 1.0, "≥ 1.0× best reference"),
    ("library vs references", "R50, 2 threads", ("kvs-swift", "R50", "2"), BEST, "ops/s", "higher", 1.0, "≥ 1.0× best reference"),
    ("library vs references", "Z90, 2 threads", ("kvs-swift", "Z90", "2"), BEST, "ops/s", "higher", 1.0, "≥ 1.0× best reference"),
    ("library vs references", "R90, 2 threads", ("kvs-swift", "R90", "2"), ("go-seed-design", "R90", "2"), "ops/s", "higher", 1.5, "≥ 1.5×"),
    ("library vs references", "R50, 2 threads", ("kvs-swift", "R50", "2"), ("go-seed-design", "R50", "2"), "ops/s", "higher", 1.5, "≥ 1.5×"),
    ("library vs references", "Z90, 2 threads", ("kvs-swift", "Z90", "2"), ("go-seed-design", "Z90", "2"), "ops/s", "higher", 1.5, "≥ 1.5×"),
    ("library vs references", "B100, 2 threads", ("kvs-swift", "B100", "2"), ("go-seed-design", "B100", "2"), "keys/s", "higher", 1.5, "≥ 1.5×"),
    ("library vs references", "L (load 1M keys)", ("kvs-swift", "L", "1"), ("go-seed-design", "L", "1"), "inserts/s", "higher", 1.5, "≥ 1.5×"),
    ("library vs references", "memory per key after L", ("kvs-swift", "L_rss", "1"), ("java-chm", "L_rss", "1"), "B", "lower", 1.0, "≤ 1.0×"),
    ("snapshots vs Redis", "snapshot save, 1M keys", ("kvs-swift", "SNAP_save", "1"), ("redis-server", "SNAP_save", "1"), "s", "lower", 1.0, "≤ 1.0×"),
    ("snapshots vs Redis", "snapshot load, 1M keys", ("kvs-swift", "SNAP_load", "1"), ("redis-server", "SNAP_load", "1"), "s", "lower", 1.0, "≤ 1.0×"),
    ("server vs Redis", "SET, pipeline 1", ("kvs-server", "SET_P1", "50"), ("redis-server", "SET_P1", "50"), "req/s", "higher", 1.0, "≥ 1.0×"),
    ("server vs Redis", "GET, pipeline 1", ("kvs-server", "GET_P1", "50"), ("redis-server", "GET_P1", "50"), "req/s", "higher", 1.0, "≥ 1.0×"),
    ("server vs Redis", "SET, pipeline 16", ("kvs-server", "SET_P16", "50"), ("redis-server", "SET_P16", "50"), "req/s", "higher", 1.0, "≥ 1.0×"),
    ("server vs Redis", "GET, pipeline 16", ("kvs-server", "GET_P16", "50"), ("redis-server", "GET_P16", "50"), "req/s", "higher", 1.0, "≥ 1.0×"),
    ("server vs Redis", "server memory per key", ("kvs-server", "MEM_per_key", "1"), ("redis-server", "MEM_per_key", "1"), "B", "lower", 1.0, "≤ 1.0×"),
    ("expiry", "expiry: sweeper CPU", ("kvs-swift", "EXP_cpu_pct", "1"), 5.0, "% core", "lower", 1.0, "< 5% of a core"),
    ("expiry", "expiry: p99 lateness", ("kvs-swift", "EXP_p99_ms", "1"), 100.0, "ms", "lower", 1.0, "< 100 ms"),
    ("for information", "R90, 2 threads, [UInt8] values", ("kvs-swift-array", "R90", "2"), BEST, "ops/s", "higher", None, "(no target)"),
    ("for information", "R50, 2 threads, [UInt8] values", ("kvs-swift-array", "R50", "2"), BEST, "ops/s", "higher", None, "(no target)"),
    ("for information", "Z90, 2 threads, [UInt8] values", ("kvs-swift-array", "Z90", "2"), BEST, "ops/s", "higher", None, "(no target)"),
    ("for information", "L, [UInt8] values", ("kvs-swift-array", "L", "1"), ("go-seed-design", "L", "1"), "inserts/s", "higher", None, "(no target)"),
    ("for information", "memory per key, [UInt8] values", ("kvs-swift-array", "L_rss", "1"), ("java-chm", "L_rss", "1"), "B", "lower", None, "(no target)"),
    ("for information", "server SAVE, 1M keys", ("kvs-server", "SNAP_save", "1"), ("redis-server", "SNAP_save", "1"), "s", "lower", None, "(no target)"),
    ("for information", "server start-up with 1M keys", ("kvs-server", "SNAP_load_wall", "1"), ("redis-server", "SNAP_load_wall", "1"), "s", "lower", None, "(no target)"),
]

# Figures kept in keys/s whose rows quote seconds for the 1,000,000 keys.
KEYS_PER_SECOND = {"SNAP_save", "SNAP_load", "SNAP_load_wall"}


def read_medians(folder):
    medians = {}
    with open(os.path.join(folder, "medians.txt")) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4 or line.startswith("#"):
                continue
            try:
                medians[tuple(parts[:3])] = float(parts[3])
            except ValueError:
                pass
    return medians


def read_header(folder):
    path = os.path.join(folder, "header.txt")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def figure(medians, key):
    value = medians.get(tuple(key))
    if value is None or value <= 0:
        return None
    return SNAP_KEYS / value if key[1] in KEYS_PER_SECOND else value


def evaluate(medians):
    """One dict per row: the figures, the reference's name, the ratio, the status."""
    present = sorted({p for (p, _, _) in medians if p in REFERENCES}, key=REFERENCES.index)
    results = []
    for group, label, ours_key, ref, unit, better, target, wording in ROWS:
        ours = figure(medians, ours_key)
        ref_value, ref_name = None, ""
        if ref == BEST:
            candidates = [(figure(medians, (p,) + tuple(ours_key[1:])), p) for p in present]
            candidates = [c for c in candidates if c[0] is not None]
            if candidates:
                ref_value, name = max(candidates)
                ref_name = f"{name} (best of {len(candidates)})"
        elif isinstance(ref, float):
            ref_value, ref_name = ref, "limit"
        else:
            ref_value, ref_name = figure(medians, ref), ref[0]
            if ref_value is None:
                ref_name = ref[0]
        ratio = ours / ref_value if ours is not None and ref_value else None
        if ratio is None:
            status = "no data"
        elif target is None:
            status = "info"
        elif isinstance(ref, float):  # "under" the limit
            status = "met" if ratio < target else "NOT met"
        elif better == "higher":
            status = "met" if ratio >= target else "NOT met"
        else:
            status = "met" if ratio <= target else "NOT met"
        results.append(dict(group=group, label=label, ours=ours, ref=ref_value, ref_name=ref_name,
                            unit=unit, better=better, target=target, wording=wording,
                            ratio=ratio, status=status))
    return results


def human(value, unit):
    if value is None:
        return "—"
    if unit in ("ops/s", "keys/s", "inserts/s", "req/s"):
        if value >= 1e6:
            return f"{value / 1e6:.2f} M {unit}"
        return f"{value / 1e3:.1f} k {unit}"
    if unit == "B":
        return f"{value:.0f} B/key"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "% core":
        return f"{value:.2f} %"
    if unit == "ms":
        return f"{value:.1f} ms"
    return f"{value:g} {unit}"


def ratio_text(r):
    return "—" if r["ratio"] is None else f"{r['ratio']:.2f}×"


def columns(r):
    ref = r["ref_name"]
    if ref == "limit":
        ref_figure = human(r["ref"], r["unit"]) + " (limit)"
    else:
        ref_figure = f"{human(r['ref'], r['unit'])} ({ref})" if ref else "—"
    return [r["label"], human(r["ours"], r["unit"]), ref_figure, ratio_text(r), r["wording"], r["status"]]


HEADINGS = ["row", "ours", "reference", "ratio", "target", "status"]


def print_text(results):
    table = [HEADINGS] + [columns(r) for r in results]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADINGS))]
    for n, row in enumerate(table):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    counted = [r for r in results if r["target"] is not None]
    met = sum(r["status"] == "met" for r in counted)
    print(f"\n{met} of {len(counted)} targets met; ratio = ours / reference "
          "(time, memory and expiry rows: lower is better).")


def print_markdown(results, header):
    if header:
        print("```text")
        for line in header:
            print(line)
        print("```")
        print()
    print("| " + " | ".join(HEADINGS) + " |")
    print("| " + " | ".join("---" for _ in HEADINGS) + " |")
    for r in results:
        cells = columns(r)
        if r["status"] == "met":
            cells[5] = "✅ met"
        elif r["status"] == "NOT met":
            cells[5] = "❌ not met"
        print("| " + " | ".join(cells) + " |")
    counted = [r for r in results if r["target"] is not None]
    met = sum(r["status"] == "met" for r in counted)
    print(f"\n{met} of {len(counted)} targets met. Ratio = ours / reference; for the time, "
          "memory and expiry rows lower is better.")


def draw(results, header, out):
    try:
        import matplotlib
    except ImportError:
        sys.exit("bench-chart: matplotlib is missing: pip install matplotlib "
                 "(or apt-get install -y python3-matplotlib); --table and --markdown work without it")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"met": "#2e9d4f", "NOT met": "#d1495b", "info": "#8da0b6", "no data": "#cccccc"}
    n = len(results)
    fig, ax = plt.subplots(figsize=(15, 0.48 * n + 2.2))
    ratios = [r["ratio"] for r in results if r["ratio"] is not None]
    targets = [r["target"] for r in results if r["target"] is not None]
    xmax = min(max(ratios + targets + [1.0]) * 1.18, 5.0)
    ys = list(range(n))[::-1]
    previous_group = None
    for y, r in zip(ys, results):
        ratio = r["ratio"]
        shown = 0 if ratio is None else min(ratio, xmax)
        ax.barh(y, shown, height=0.62, color=colours[r["status"]], edgecolor="none")
        if r["target"] is not None:
            ax.plot([r["target"], r["target"]], [y - 0.42, y + 0.42], color="#222222", linewidth=2.2)
        # The ratio at the end of the bar (inside it when the bar reaches the right edge).
        if ratio is None:
            ax.text(xmax * 0.01, y, "no data", va="center", fontsize=9, color="#555555")
        elif shown > xmax * 0.9:
            ax.text(shown - xmax * 0.01, y, f"{ratio:.2f}×", va="center", ha="right", fontsize=9,
                    color="white", fontweight="bold")
        else:
            at = shown
            if r["target"] is not None and 0 <= r["target"] - shown < xmax * 0.1:
                at = r["target"]  # clear of the target tick
            ax.text(at + xmax * 0.008, y, f"{ratio:.2f}×", va="center", fontsize=9, fontweight="bold")
        # Right of the plot: the target and the two figures.
        note = (f"target {r['wording']}" if r["target"] is not None else "no target")
        note += "  ·  " + ("higher is better" if r["better"] == "higher" else "lower is better")
        note += f"\n{human(r['ours'], r['unit'])} vs {human(r['ref'], r['unit'])}"
        ax.text(1.01, y, note, transform=ax.get_yaxis_transform(), va="center", fontsize=8.5, color="#333333")
        if previous_group is not None and r["group"] != previous_group:
            ax.axhline(y + 0.5, color="#999999", linewidth=0.8, linestyle=":")
        previous_group = r["group"]
    labels = []
    for r in results:
        ref = r["ref_name"].split(" ")[0] if r["ref_name"] and r["ref_name"] != "limit" else (
            "limit" if r["ref_name"] == "limit" else "?")
        labels.append(f"{r['label']}  [vs {ref}]")
    ax.set_yticks(ys)
    ax.set_yticklabels(labels, fontsize=10)
    ax.set_xlim(0, xmax)
    ax.set_ylim(-0.7, n - 0.3)
    ax.axvline(1.0, color="#666666", linewidth=0.8)
    ax.set_xlabel("ratio: ours / reference  (expiry rows: figure / limit)    black tick: the target", fontsize=10)
    counted = [r for r in results if r["target"] is not None]
    met = sum(r["status"] == "met" for r in counted)
    when = next((line.split(": ", 1)[1] for line in header if line.startswith("date: ")), "")
    machine = next((line.split(": ", 1)[1] for line in header if line.startswith("machine: ")), "")
    short = re.match(r"(\d+ cores), ([^(,]+)", machine)
    machine = f"{short.group(1)}, {short.group(2).strip()}" if short else machine
    settings = next((line.split(": ", 1)[1] for line in header if line.startswith("settings: ")), "")
    ax.set_title(f"kvs against the references and Redis: {met} of {len(counted)} targets met\n"
                 f"{when}  ·  {machine}  ·  medians of one run ({settings})", fontsize=11)
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color=colours[k], label=k) for k in ("met", "NOT met", "info", "no data")],
              loc="lower right", fontsize=9, frameon=True)
    ax.grid(axis="x", color="#eeeeee")
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    fig.subplots_adjust(right=0.74)
    fig.savefig(out, dpi=110)
    print(f"bench-chart: wrote {out}")


def update(path, results, header):
    import contextlib
    import io
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    with open(path) as f:
        text = f.read()
    if begin not in text or end not in text:
        sys.exit(f"bench-chart: {path} has no {begin} ... {end} lines")
    block = io.StringIO()
    with contextlib.redirect_stdout(block):
        print_markdown(results, header)
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(head + begin + "\n" + block.getvalue() + end + tail)
    print(f"bench-chart: updated {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", help="a results folder of scripts/bench-all.sh (with medians.txt)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--table", action="store_true", help="print the table as plain text")
    mode.add_argument("--markdown", action="store_true", help="print the run header and the table as Markdown")
    parser.add_argument("-o", "--output", help="the PNG to write (default RESULTS/chart.png)")
    parser.add_argument("--update", metavar="FILE",
                        help="with --markdown: replace the text between the lines <!-- results:begin --> "
                             "and <!-- results:end --> of FILE (e.g. BENCHMARKS.md) instead of printing")
    args = parser.parse_args()
    if args.update and not args.markdown:
        parser.error("--update goes with --markdown")
    medians = read_medians(args.results)
    header = read_header(args.results)
    results = evaluate(medians)
    if args.table:
        print_text(results)
    elif args.markdown and args.update:
        update(args.update, results, header)
    elif args.markdown:
        print_markdown(results, header)
    else:
        draw(results, header, args.output or os.path.join(args.results, "chart.png"))


if __name__ == "__main__":
    main()
