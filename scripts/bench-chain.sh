#!/usr/bin/env bash
# One operation's latency against the throughput of many: R90 and R50 as the anchors run
# them, and again "chained", where each read adds the value's last byte (always 0) to the
# generator's state, so the key of the next operation depends on the value just read.
#
# Why: on the mixed workloads the references that lead (java-chm, cpp-libcuckoo) gain more
# from the CPU overlapping the cache misses of consecutive, independent operations than
# kvs does (see docs/design/read-path.md, "Latency and overlap"). Chained, no program can overlap
# them, and the figure is the latency of one operation end to end.
#
# The references are the anchors' own sources, copied to a temporary folder and built
# twice: as they are, and with that one line patched in (the script stops if a patch no
# longer applies). kvs-bench does the same with KVS_BENCH_CHAIN=1. java-chm is built a
# third time, "padded": not chained, each operation first spending about 120 instructions
# (PAD_ROUNDS=3) on registers only, which shows how much of Java's lead needs its
# operations to be short. Nothing under ../shared/anchors is changed.
#
#   scripts/bench-chain.sh            # REPS=5 OPS=2000000 THREADS="1 2" WORKLOADS="R90 R50"
#
# Only R90 and R50: Z90 takes its keys from samples drawn before timing, not from the
# generator, so the patch would not chain it.
#
# Prints the medians, for each program, workload and thread count, of the plain and the
# chained figures (operations per second) and their ratio; the raw lines go to RAW
# (default: a file in the temporary folder, printed at the end, then removed).
#
# Needs: swift, javac/java 17, python3; g++ with libcuckoo-dev for cpp-libcuckoo (skipped
# otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
REPS="${REPS:-5}"
OPS="${OPS:-2000000}"
THREADS="${THREADS:-1 2}"
WORKLOADS="${WORKLOADS:-R90 R50}"
SCRATCH="${BENCH_SCRATCH_PATH:-Benchmarks/.build}"
ANCHORS="${ANCHORS:-$ROOT/../shared/anchors}"

log() { printf '[bench-chain %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
for tool in swift javac java python3; do
    command -v "$tool" >/dev/null || { log "missing: $tool"; exit 1; }
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench-chain.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
RAW="${RAW:-$TMP/raw.txt}"
: > "$RAW"

# patch FILE OLD NEW: replaces the one line OLD (fixed text) by NEW, or stops.
patch_line() {
    python3 - "$1" "$2" "$3" <<'EOF'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"bench-chain: the patch no longer applies to {path}: {old!r}")
open(path, "w").write(text.replace(old, new))
EOF
}

log "building kvs-bench (release, scratch path $SCRATCH)"
swift build -c release --package-path Benchmarks --scratch-path "$SCRATCH" --product kvs-bench >&2
cp "$(swift build -c release --package-path Benchmarks --scratch-path "$SCRATCH" --show-bin-path)/kvs-bench" "$TMP/"

# Each program: a name, then a command line (to which the workload, threads and ops are added).
programs=()
runners=()
programs+=(kvs-swift) runners+=("$TMP/kvs-bench")
programs+=(kvs-swift-chained) runners+=("env KVS_BENCH_CHAIN=1 $TMP/kvs-bench")

log "building java-chm, as it is and chained"
mkdir -p "$TMP/java-src" "$TMP/java-plain" "$TMP/java-chained"
cp "$ANCHORS/java-chm/ChmBench.java" "$TMP/java-src/"
javac -d "$TMP/java-plain" "$TMP/java-src/ChmBench.java"
patch_line "$TMP/java-src/ChmBench.java" \
    'if (v != null) sink += v.length + v[0]; else misses++;' \
    'if (v != null) { sink += v.length + v[0]; s += v[v.length - 1]; } else misses++;'
javac -d "$TMP/java-chained" "$TMP/java-src/ChmBench.java"
programs+=(java-chm) runners+=("java -cp $TMP/java-plain ChmBench")
programs+=(java-chm-chained) runners+=("java -cp $TMP/java-chained ChmBench")

# java-chm-padded: not chained, but each operation first does PAD_ROUNDS x 4 rounds of
# SplitMix's output function on registers (four independent chains, about 10
# instructions a round, no memory): work that needs no cache line, to see whether Java's
# overlap survives a longer operation.
PAD_ROUNDS="${PAD_ROUNDS:-3}"
mkdir -p "$TMP/java-pad-src" "$TMP/java-padded"
cp "$ANCHORS/java-chm/ChmBench.java" "$TMP/java-pad-src/"
patch_line "$TMP/java-pad-src/ChmBench.java" \
    'String key = keys[idx];' \
    "String key = keys[idx]; { long a = r, b = r + 1, c = r + 2, d = r + 3; for (int k = 0; k < $PAD_ROUNDS; k++) { a = mix(a); b = mix(b); c = mix(c); d = mix(d); } sink += (a ^ b ^ c ^ d) & 1; }"
javac -d "$TMP/java-padded" "$TMP/java-pad-src/ChmBench.java"
programs+=(java-chm-padded) runners+=("java -cp $TMP/java-padded ChmBench")

if command -v g++ >/dev/null && [[ -f /usr/include/libcuckoo/cuckoohash_map.hh ]]; then
    log "building cpp-libcuckoo, as it is and chained"
    cp "$ANCHORS/cpp-libcuckoo/main.cpp" "$TMP/cuckoo.cpp"
    g++ -std=c++17 -O2 -DNDEBUG -pthread -o "$TMP/cuckoo-plain" "$TMP/cuckoo.cpp"
    patch_line "$TMP/cuckoo.cpp" \
        '[&sink](const std::string &v) { sink += v.size() + static_cast<unsigned char>(v[0]); }' \
        '[&sink, &rng](const std::string &v) { sink += v.size() + static_cast<unsigned char>(v[0]); rng.s += static_cast<unsigned char>(v.back()); }'
    g++ -std=c++17 -O2 -DNDEBUG -pthread -o "$TMP/cuckoo-chained" "$TMP/cuckoo.cpp"
    programs+=(cpp-libcuckoo) runners+=("$TMP/cuckoo-plain")
    programs+=(cpp-libcuckoo-chained) runners+=("$TMP/cuckoo-chained")
else
    log "skipping cpp-libcuckoo (apt-get install -y g++ libcuckoo-dev)"
fi

# Interleaved: every program once per workload and thread count, then the next rep.
for rep in $(seq 1 "$REPS"); do
    log "rep $rep of $REPS"
    for w in $WORKLOADS; do
        for t in $THREADS; do
            for i in "${!programs[@]}"; do
                # The programs print "PROGRAM W T FIGURE" under their own name: rename.
                ${runners[$i]} "$w" "$t" "$OPS" | awk -v name="${programs[$i]}" '!/^#/ && NF == 4 { $1 = name; print }' >> "$RAW"
            done
        done
    done
done

python3 - "$RAW" <<'EOF'
import statistics, sys
figures = {}
for line in open(sys.argv[1]):
    name, w, t, f = line.split()
    figures.setdefault((name, w, t), []).append(float(f))
median = {k: statistics.median(v) for k, v in figures.items()}
print("medians (M operations/s):")
for (name, w, t), m in sorted(median.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
    print(f"  {name:<22} {w} {t} {m / 1e6:6.2f}   (runs: {' '.join(f'{x / 1e6:.2f}' for x in figures[(name, w, t)])})")
print()
print(f"{'program':<16} {'workload':<8} {'plain M/s':>10} {'chained M/s':>12} {'plain/chained':>14}")
rows = sorted({(n.removesuffix('-chained'), w, t) for (n, w, t) in median if not n.endswith('-padded')})
for name, w, t in sorted(rows, key=lambda r: (r[1], r[2], r[0])):
    plain, chained = median.get((name, w, t)), median.get((name + '-chained', w, t))
    if plain and chained:
        print(f"{name:<16} {w + ' ' + t:<8} {plain / 1e6:>10.2f} {chained / 1e6:>12.2f} {plain / chained:>13.2f}x")
print()
print("kvs-swift against each reference (ratio of medians; above 1: kvs is faster):")
for name, w, t in sorted(rows, key=lambda r: (r[1], r[2], r[0])):
    if name == 'kvs-swift':
        continue
    cells = []
    for suffix, label in (('', 'plain'), ('-chained', 'chained')):
        ours, theirs = median.get(('kvs-swift' + suffix, w, t)), median.get((name + suffix, w, t))
        if ours and theirs:
            cells.append(f"{label} {ours / theirs:.2f}x")
    print(f"  {w} {t} vs {name}: {', '.join(cells)}")
EOF
log "raw figures: $RAW ($(wc -l < "$RAW") lines)"
if [[ "$RAW" == "$TMP"/* ]]; then cat "$RAW" >&2; fi
