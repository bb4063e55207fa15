#!/usr/bin/env bash
# Hit ratios of the eviction policies against Caffeine on the cache traces: replays every
# trace at 1, 5, 10, 25 and 50% of its distinct keys (a miss inserts the key, weight 1)
# through LRU, SIEVE, S3-FIFO and W-TinyLFU, each as one global policy and as 64 per-shard
# policies of a 64th of the bound (Benchmarks/Sources/kvs-hitratio), and through Debian's
# Caffeine 2.6.2 (Benchmarks/caffeine/HitRatio.java). Writes the raw lines, the markdown
# table of BENCHMARKS.md ("Hit ratio against Caffeine") and the chart docs/hit-ratio.svg.
#
# Needs a JDK and Caffeine (apt-get install -y default-jdk-headless libcaffeine-java), gzip,
# python3. Environment: TRACES (default /work/shared/traces), SIZES (default 1,5,10,25,50),
# OUT (default a fresh temporary folder), CHART (default docs/hit-ratio.svg),
# BENCH_SCRATCH_PATH (default Benchmarks/.build).
set -euo pipefail
cd "$(dirname "$0")/.."

TRACES="${TRACES:-/work/shared/traces}"
SIZES="${SIZES:-1,5,10,25,50}"
OUT="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/bench-hit-ratio.XXXXXX")}"
CHART="${CHART:-docs/hit-ratio.svg}"
BENCH_SCRATCH="${BENCH_SCRATCH_PATH:-Benchmarks/.build}"
CAFFEINE_JAR=/usr/share/java/caffeine.jar
for tool in javac java gzip python3; do
    command -v "$tool" >/dev/null || { echo "bench-hit-ratio: $tool is missing (apt-get install -y default-jdk-headless)"; exit 1; }
done
[[ -f "$CAFFEINE_JAR" ]] || { echo "bench-hit-ratio: $CAFFEINE_JAR is missing (apt-get install -y libcaffeine-java)"; exit 1; }
mkdir -p "$OUT"

swift build -c release --package-path Benchmarks --scratch-path "$BENCH_SCRATCH" --product kvs-hitratio >&2
BIN="$(swift build -c release --package-path Benchmarks --scratch-path "$BENCH_SCRATCH" --show-bin-path)"
javac -d "$OUT/classes" -cp "$CAFFEINE_JAR" Benchmarks/caffeine/HitRatio.java

# Largest traces last, so that a partial run still covers the small ones.
mapfile -t FILES < <(ls -S -r "$TRACES"/*.trace.gz)
echo "bench-hit-ratio: ${#FILES[@]} traces, sizes $SIZES% of distinct keys, results in $OUT" >&2
"$BIN/kvs-hitratio" --sizes "$SIZES" --shards 64 "${FILES[@]}" >"$OUT/kvs.tsv"
java -cp "$CAFFEINE_JAR:$OUT/classes" HitRatio --sizes "$SIZES" "${FILES[@]}" >"$OUT/caffeine.tsv"

python3 scripts/hit-ratio-report.py "$OUT/kvs.tsv" "$OUT/caffeine.tsv" --table "$OUT/table.md" --svg "$CHART"
echo "bench-hit-ratio: table in $OUT/table.md, chart in $CHART" >&2
