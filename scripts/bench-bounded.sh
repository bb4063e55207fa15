#!/usr/bin/env bash
# A bounded store's throughput against Caffeine's: the mixed workloads of the anchors'
# WORKLOADS.md (1,000,000 keys, 64-byte values, 90% get, 10% put of a fresh value; R90
# uniform, Z90 Zipf 0.99) on kvs-bench unbounded and bounded at BOUND entries (the default
# policy, then each of POLICIES), the anchors' java-chm (ConcurrentHashMap, unbounded) and
# Debian's Caffeine 2.6.2 unbounded and with maximumSize(BOUND)
# (Benchmarks/caffeine/CacheBench.java, maintenance on the common pool as users run it).
# Every program loads the keys first (a bounded store or cache then holds BOUND of them),
# warms up on OPS/5 operations per thread, then times OPS per thread. The runs are
# interleaved rep by rep; prints a markdown table of the medians (M ops/s, each bounded
# figure with its ratio to its unbounded one, and kvs bounded / Caffeine bounded), and on
# stderr every figure's min and max, the bounded runs' misses and the raw log's path.
#
#   scripts/bench-bounded.sh          # REPS=3 OPS=2000000 BOUND=500000 WORKLOADS="R90:1 R90:2 Z90:1 Z90:2"
#
# Needs swift, a JDK and Caffeine (apt-get install -y default-jdk-headless libcaffeine-java),
# python3. Environment: REPS (3), OPS (2000000 per thread), BOUND (500000), WORKLOADS
# (WORKLOAD:THREADS pairs, default "R90:1 R90:2 Z90:1 Z90:2"), POLICIES (kvs policies also
# run bounded, from lru, sieve, s3fifo, wtinylfu; default none), OUT (default a fresh
# temporary folder: classes and raw.txt), ANCHORS (default ../shared/anchors),
# BENCH_SCRATCH_PATH (default Benchmarks/.build). CACHE_BENCH_EXECUTOR=caller is passed on
# to CacheBench (maintenance on the calling thread).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

REPS="${REPS:-3}"
OPS="${OPS:-2000000}"
BOUND="${BOUND:-500000}"
WORKLOADS="${WORKLOADS:-R90:1 R90:2 Z90:1 Z90:2}"
POLICIES="${POLICIES:-}"
OUT="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/bench-bounded.XXXXXX")}"
ANCHORS="${ANCHORS:-$ROOT/../shared/anchors}"
BENCH_SCRATCH="${BENCH_SCRATCH_PATH:-Benchmarks/.build}"
CAFFEINE_JAR=/usr/share/java/caffeine.jar

log() { printf '[bench-bounded %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
for tool in swift javac java python3; do
    command -v "$tool" >/dev/null || { log "$tool is missing (apt-get install -y default-jdk-headless)"; exit 1; }
done
[[ -f "$CAFFEINE_JAR" ]] || { log "$CAFFEINE_JAR is missing (apt-get install -y libcaffeine-java)"; exit 1; }
[[ -f "$ANCHORS/java-chm/ChmBench.java" ]] || { log "no $ANCHORS/java-chm/ChmBench.java (set ANCHORS)"; exit 1; }
for policy in $POLICIES; do
    case "$policy" in lru | sieve | s3fifo | wtinylfu) ;; *) log "unknown policy $policy"; exit 1 ;; esac
done
mkdir -p "$OUT/classes"
RAW="$OUT/raw.txt"
: >"$RAW"

log "building kvs-bench (release, scratch path $BENCH_SCRATCH)"
swift build -c release --package-path Benchmarks --scratch-path "$BENCH_SCRATCH" --product kvs-bench >&2
BIN="$(swift build -c release --package-path Benchmarks --scratch-path "$BENCH_SCRATCH" --show-bin-path)"
javac -d "$OUT/classes" "$ANCHORS/java-chm/ChmBench.java"
javac -d "$OUT/classes" -cp "$CAFFEINE_JAR" Benchmarks/caffeine/CacheBench.java

# Each configuration: a label (the table's column), then a command line to which the
# workload, threads and OPS are added. Variables a configuration does not set are unset, so
# that an unbounded run stays unbounded whatever the caller's environment holds.
CLEAN="env -u KVS_BENCH_BOUND -u KVS_BENCH_POLICY -u KVS_BENCH_READ -u KVS_BENCH_CHAIN -u KVS_BENCH_VALUE -u CACHE_BENCH_BOUND"
labels=(kvs kvs-bounded)
runners=("$CLEAN $BIN/kvs-bench" "$CLEAN KVS_BENCH_BOUND=$BOUND $BIN/kvs-bench")
for policy in $POLICIES; do
    labels+=("kvs-bounded-$policy")
    runners+=("$CLEAN KVS_BENCH_BOUND=$BOUND KVS_BENCH_POLICY=$policy $BIN/kvs-bench")
done
labels+=(chm caffeine caffeine-bounded)
runners+=("$CLEAN java -cp $OUT/classes ChmBench"
    "$CLEAN java -cp $CAFFEINE_JAR:$OUT/classes CacheBench"
    "$CLEAN CACHE_BENCH_BOUND=$BOUND java -cp $CAFFEINE_JAR:$OUT/classes CacheBench")

# raw.txt: every output line of every run, "LABEL<tab>WORKLOAD<tab>THREADS<tab>LINE" (the
# "#" diagnostics included).
log "${#labels[@]} configurations, WORKLOADS=\"$WORKLOADS\" BOUND=$BOUND OPS=$OPS REPS=$REPS; raw lines in $RAW"
for rep in $(seq 1 "$REPS"); do
    log "rep $rep of $REPS, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    for pair in $WORKLOADS; do
        workload="${pair%%:*}" threads="${pair##*:}"
        for i in "${!labels[@]}"; do
            ${runners[$i]} "$workload" "$threads" "$OPS" | sed "s/^/${labels[$i]}\t$workload\t$threads\t/" >>"$RAW"
        done
    done
done
log "done, load average $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$RAW" "$BOUND" $POLICIES <<'EOF'
import re, statistics, sys
raw, bound, policies = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
figures, misses = {}, {}
for line in open(raw):
    label, w, t, text = line.rstrip("\n").split("\t", 3)
    fields = text.split()
    if text.startswith("# bounded at"):
        # kvs-bench: "misses M of N operations"; CacheBench: "misses M of R reads (...), N operations".
        found = re.search(r"misses (\d+) of (\d+) operations", text) or re.search(r"misses (\d+) of \d+ reads.*?(\d+) operations", text)
        if found:
            misses.setdefault((label, w, t), []).append(100 * int(found[1]) / int(found[2]))
    elif not text.startswith("#") and len(fields) == 4:
        figures.setdefault((label, w, t), []).append(float(fields[3]) / 1e6)
median = {key: statistics.median(values) for key, values in figures.items()}
rows = sorted({(w, t) for _, w, t in figures}, key=lambda row: (row[0], int(row[1])))

def cell(label, w, t, base=None):
    value = median.get((label, w, t))
    if value is None:
        return "–"
    ratio = median.get((base, w, t)) if base else None
    return f"{value:.2f} M" + (f" ({value / ratio:.2f}×)" if ratio else "")

short = f"{bound // 1000}k" if bound % 1000 == 0 else str(bound)
head = ["workload", "threads", "kvs unbounded", f"kvs {short}"] + [f"kvs {p} {short}" for p in policies]
head += ["ConcurrentHashMap", "Caffeine unbounded", f"Caffeine {short}", f"kvs {short} / Caffeine {short}"]
print("| " + " | ".join(head) + " |")
print("| --- | ---: |" + " ---: |" * (len(head) - 2))
for w, t in rows:
    cells = [w, t, cell("kvs", w, t), cell("kvs-bounded", w, t, "kvs")]
    cells += [cell(f"kvs-bounded-{p}", w, t, "kvs") for p in policies]
    cells += [cell("chm", w, t), cell("caffeine", w, t), cell("caffeine-bounded", w, t, "caffeine")]
    ours, theirs = median.get(("kvs-bounded", w, t)), median.get(("caffeine-bounded", w, t))
    cells.append(f"{ours / theirs:.2f}×" if ours and theirs else "–")
    print("| " + " | ".join(cells) + " |")
for (label, w, t), values in sorted(figures.items(), key=lambda kv: (kv[0][1], int(kv[0][2]), kv[0][0])):
    print(f"  {label} {w} {t}: median {median[(label, w, t)]:.2f}, min {min(values):.2f}, max {max(values):.2f} M ops/s"
          f" ({len(values)} runs)", file=sys.stderr)
for (label, w, t), values in sorted(misses.items(), key=lambda kv: (kv[0][1], int(kv[0][2]), kv[0][0])):
    print(f"  {label} {w} {t}: misses {statistics.median(values):.1f}% of operations (median of {len(values)} runs)",
          file=sys.stderr)
EOF
log "raw lines: $RAW"
