#!/usr/bin/env bash
# What kvs-server's counting malloc (Sources/CKVSAllocator) costs: the release kvs-server as
# built, against the same objects linked with the allocator's stub (CKVS_ALLOCATOR_DISABLED:
# glibc's malloc, uncounted; INFO then reads mallinfo2). redis-benchmark SET and GET, 50
# clients, pipeline 16 and 1, 1,000,000 random keys (-r), 3-byte values; each rep starts each
# binary afresh, the two alternating. Prints, per run, requests per second and the server's
# CPU time per request (utime + stime from /proc/PID/stat), then the medians, and the load average
# before and after (the machine may be shared).
#
# Needs redis-benchmark and redis-cli (apt-get install -y redis-tools), python3; Linux with glibc.
# Environment: REQUESTS (per test, default 1000000), REPS (default 3), SCRATCH_PATH (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS="${REQUESTS:-1000000}"
REPS="${REPS:-3}"
SCRATCH="${SCRATCH_PATH:-.build}"
for tool in redis-benchmark redis-cli python3; do
    command -v "$tool" >/dev/null || { echo "bench-allocator: $tool is missing (apt-get install -y redis-tools)"; exit 1; }
done

swift build -c release --scratch-path "$SCRATCH" --product kvs-server >&2
BUILD="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
COUNTED="$BUILD/kvs-server"
UNCOUNTED="$BUILD/kvs-server-uncounted"

# The baseline: SwiftPM's own link command for kvs-server (printed by a verbose build once
# the binary is gone), with the allocator's object replaced by its stub.
OBJECT="$BUILD/CKVSAllocator.build/ckvs_allocator.c.o"
STUB="$BUILD/CKVSAllocator.build/ckvs_allocator_stub.o"
clang -O2 -DCKVS_ALLOCATOR_DISABLED -I Sources/CKVSAllocator/include -c Sources/CKVSAllocator/ckvs_allocator.c -o "$STUB"
mv "$COUNTED" "$COUNTED.saved"
LINK="$(swift build -c release --scratch-path "$SCRATCH" --product kvs-server -v 2>&1 | grep -F -- "-o $COUNTED " | grep -F Objects.LinkFileList | tail -1)"
mv -f "$COUNTED.saved" "$COUNTED"
[[ -n "$LINK" ]] || { echo "bench-allocator: cannot find SwiftPM's link command"; exit 1; }
LIST="$(grep -o '@[^ ]*Objects.LinkFileList' <<<"$LINK" | cut -c2-)"
sed "s|^$OBJECT\$|$STUB|" "$LIST" >"$LIST.uncounted"
LINK="${LINK//"-o $COUNTED "/"-o $UNCOUNTED "}"
eval "${LINK//"@$LIST"/"@$LIST.uncounted"}" >/dev/null 2>&1
exports_malloc() { nm -D "$1" | awk '$2 == "T" && $3 == "malloc" { found = 1 } END { exit !found }'; }
exports_malloc "$COUNTED" || { echo "bench-allocator: $COUNTED does not export malloc"; exit 1; }
if exports_malloc "$UNCOUNTED"; then echo "bench-allocator: $UNCOUNTED exports malloc"; exit 1; fi

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
# The process's user and system time (threads that exited included), in nanoseconds.
TICK_NS=$((1000000000 / $(getconf CLK_TCK)))
cpu_ns() { echo $(($(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/"$1"/stat) * TICK_NS)); }

DIR="$(mktemp -d "${TMPDIR:-/tmp}/bench-allocator.XXXXXX")"
PID=""
cleanup() {
    if [[ -n "$PID" ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$DIR"
}
trap cleanup EXIT

RESULTS="$DIR/results"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq 1 "$REPS"); do
    for variant in counted uncounted; do
        bin="$COUNTED"
        [[ $variant == uncounted ]] && bin="$UNCOUNTED"
        port="$(free_port)"
        "$bin" --port "$port" --dir "$DIR" --save "" >"$DIR/server.log" 2>&1 &
        PID=$!
        for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
        allocator="$(redis-cli -p "$port" info memory | tr -d '\r' | sed -n 's/^mem_allocator://p')"
        for pipeline in 16 1; do
            for test in set get; do
                before="$(cpu_ns "$PID")"
                rps="$(redis-benchmark -p "$port" -t "$test" -n "$REQUESTS" -r 1000000 -c 50 -P "$pipeline" -q 2>/dev/null |
                    tr '\r' '\n' | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1)"
                after="$(cpu_ns "$PID")"
                ns=$(((after - before) / REQUESTS))
                printf '%s %s %s_P%s %s %s\n' "$rep" "$variant" "${test^^}" "$pipeline" "$rps" "$ns" | tee -a "$RESULTS"
            done
        done
        used="$(redis-cli -p "$port" info memory | tr -d '\r' | sed -n 's/^used_memory://p')"
        echo "$rep $variant mem_allocator=$allocator used_memory=$used"
        kill "$PID"
        wait "$PID" 2>/dev/null || true
        PID=""
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
tests = sorted({r[2] for r in rows}, key=lambda t: (t[-2:] != "16", t))
print(f"\n{'test':<8} {'counted req/s':>14} {'uncounted req/s':>16} {'counted ns/req':>15} {'uncounted ns/req':>17}")
for t in tests:
    def med(variant, column):
        return statistics.median(float(r[column]) for r in rows if r[1] == variant and r[2] == t)
    print(f"{t:<8} {med('counted', 3):>14,.0f} {med('uncounted', 3):>16,.0f} "
          f"{med('counted', 4):>15,.0f} {med('uncounted', 4):>17,.0f}")
PY
