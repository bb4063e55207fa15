#!/usr/bin/env bash
# The benchmark targets' measurements in one go, on this machine, in one run:
#   1. builds kvs-bench and kvs-server in release mode;
#   2. runs the reference programs of ../shared/anchors/ (Go, Java, Rust, C++) with kvs-bench
#      interleaved (their run.sh with EXTRA_PROGRAMS): L, R90, R50, Z90, B100, with
#      ValueBytes values and again with [UInt8] values (KVS_BENCH_VALUE=array);
#   3. snapshots of 1,000,000 keys with 64-byte values: kvs-bench SNAP against Redis's SAVE
#      and start-up load of the same keys and values (and kvs-server's SAVE and start-up,
#      for information), the two alternating rep by rep;
#   4. kvs-bench EXP (background expiry), where kvs-bench has it;
#   5. scripts/bench-server.sh: redis-benchmark SET/GET at pipeline 1 and 16, and resident
#      memory per key, kvs-server against redis-server;
# then prints one table (each row: our figure, the reference's, the ratio, the target, met
# or not) and keeps everything in a results folder:
#   header.txt    machine, toolchains, settings, load on the machine during the run
#   medians.txt   every figure as "PROGRAM WORKLOAD THREADS FIGURE" (the median over REPS)
#   *-raw.txt     every single measurement; anchors.log, server.txt: the tools' own output
#   table.txt, table.md, chart.png   made from medians.txt by scripts/bench-chart.py
#
# Environment:
#   REPS (3)            repetitions of everything; medians are quoted
#   OPS (5000000)       operations per thread of R90/R50/Z90/B100 (run.sh's OPS)
#   REQUESTS (1000000)  requests per redis-benchmark test
#   QUICK=1             smoke run: REPS=1, OPS=200000, REQUESTS=100000 unless set
#   SCRATCH_PATH (.build)  the Swift build folder of kvs-server
#   BENCH_SCRATCH_PATH (Benchmarks/.build)  the Swift build folder of kvs-bench (the Benchmarks package)
#   RESULTS (bench-results/<UTC time>)  the results folder; bench-results/latest links to it
#   ANCHORS (../shared/anchors)  the reference programs
#   WORKLOADS           passed to run.sh (default there: "L:1 R90:1 R90:2 R50:1 R50:2 Z90:2 B100:2")
#
# Needs: swift, go and Java 17 (run.sh), python3, redis-server, redis-cli, redis-benchmark.
# Optional (run.sh skips them, the "best of the references" rows then have fewer):
# cargo with librust-dashmap-dev, g++ with libcuckoo-dev. For the chart: matplotlib.
# It installs nothing: it says what is missing and stops (or goes on, for the optional ones).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

QUICK="${QUICK:-0}"
if [[ "$QUICK" == 1 ]]; then
    REPS="${REPS:-1}" OPS="${OPS:-200000}" REQUESTS="${REQUESTS:-100000}"
fi
REPS="${REPS:-3}"
OPS="${OPS:-5000000}"
REQUESTS="${REQUESTS:-1000000}"
SCRATCH="${SCRATCH_PATH:-.build}"
BENCH_SCRATCH="${BENCH_SCRATCH_PATH:-Benchmarks/.build}"
ANCHORS="${ANCHORS:-$ROOT/../shared/anchors}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
SNAP_KEYS=1000000
STARTED=$SECONDS

# Progress and errors go to the original stderr (fd 3), also from inside redirected steps.
exec 3>&2
log() { printf '[bench-all %s] %s\n' "$(date +%H:%M:%S)" "$*" >&3; }

# --- what is missing ----------------------------------------------------------------
missing_required=()
missing_optional=()
need() { command -v "$1" >/dev/null || missing_required+=("$1 ($2)"); }
need swift "Swift 6 toolchain, /opt/swift/usr/bin"
need go golang-go
need javac "a Java 17 JDK"
need java "a Java 17 JDK"
need python3 python3
need redis-server redis-server
need redis-cli redis-tools
need redis-benchmark redis-tools
[[ -x "$ANCHORS/run.sh" ]] || missing_required+=("$ANCHORS/run.sh (set ANCHORS)")
command -v cargo >/dev/null || missing_optional+=("cargo (cargo)")
compgen -G '/usr/share/cargo/registry/dashmap-5.*' >/dev/null || missing_optional+=("dashmap crate (librust-dashmap-dev)")
command -v g++ >/dev/null || missing_optional+=("g++ (g++)")
[[ -f /usr/include/libcuckoo/cuckoohash_map.hh ]] || missing_optional+=("libcuckoo (libcuckoo-dev)")
INSTALL_HINT="apt-get install -y golang-go cargo librust-dashmap-dev g++ libcuckoo-dev redis-server redis-tools"
if ((${#missing_optional[@]})); then
    log "missing, so run.sh skips that reference: ${missing_optional[*]}"
    log "to include every reference: $INSTALL_HINT"
fi
if ((${#missing_required[@]})); then
    log "missing: ${missing_required[*]}"
    log "install: $INSTALL_HINT (Java 17 JDK and Swift separately)"
    exit 1
fi
HAVE_MPL=0
python3 -c 'import matplotlib' 2>/dev/null && HAVE_MPL=1

# --- clean-up ------------------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench-all.XXXXXX")"
SERVER_PIDS=()
SAMPLER_PID=""
cleanup() {
    local pid
    for pid in "${SERVER_PIDS[@]}" "$SAMPLER_PID"; do
        if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; fi
    done
    for pid in "${SERVER_PIDS[@]}" "$SAMPLER_PID"; do
        if [[ -n "$pid" ]]; then wait "$pid" 2>/dev/null || true; fi
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build ---------------------------------------------------------------------------
# One product per invocation: `swift build` builds only the last of several --product options.
# A fingerprint of the code measured (others may be editing the working tree meanwhile).
SOURCES_SHA="$(find Sources Package.swift Benchmarks/Sources Benchmarks/Package.swift -type f \( -name '*.swift' -o -name '*.c' -o -name '*.h' \) -print0 |
    sort -z | xargs -0 cat | sha1sum | cut -c1-12)"
log "building kvs-bench and kvs-server (release, scratch paths $BENCH_SCRATCH and $SCRATCH)"
swift build -c release --package-path Benchmarks --scratch-path "$BENCH_SCRATCH" --product kvs-bench >&2
swift build -c release --scratch-path "$SCRATCH" --product kvs-server >&2
BENCH_BIN="$(swift build -c release --package-path Benchmarks --scratch-path "$BENCH_SCRATCH" --show-bin-path)"
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
# Copies, so that a rebuild in the same scratch path during the run changes nothing here.
cp "$BENCH_BIN/kvs-bench" "$BIN/kvs-server" "$TMP/"
KVS_BENCH="$TMP/kvs-bench"
KVS_SERVER="$TMP/kvs-server"

if [[ -z "${RESULTS:-}" ]]; then
    RESULTS="bench-results/$STAMP"
    mkdir -p "$RESULTS"
    ln -sfn "$STAMP" bench-results/latest
fi
mkdir -p "$RESULTS"
RESULTS="$(cd "$RESULTS" && pwd)"
log "results in $RESULTS"

# --- the machine, and what else runs on it --------------------------------------------
version() { "$@" 2>&1 | head -n 1 || true; }
MY_SID="$(ps -o sid= -p $$ | tr -d ' ')"
{
    echo "date: $(date -u +%FT%TZ)"
    echo "settings: REPS=$REPS OPS=$OPS REQUESTS=$REQUESTS QUICK=$QUICK"
    echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { m = $2 } /^cpu family/ { f = $2 } /^model\t/ { n = $2 } /^cache size/ { c = $2 } END { printf "%s (family %s, model %s, %s cache)", m, f, n, c }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo), virtualisation: $(systemd-detect-virt 2>/dev/null || echo unknown)"
    echo "kernel: $(uname -srm)"
    echo "swift: $(version swift --version)"
    echo "go: $(version go version)"
    echo "java: $(version java -version)"
    echo "rust: $(version rustc --version); $(version cargo --version)"
    echo "g++: $(version g++ --version); libcuckoo-dev $(dpkg-query -W -f='${Version}' libcuckoo-dev 2>/dev/null || echo '-')"
    echo "redis: $(version redis-server --version)"
    echo "kvs: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?') plus the working tree as built ($(git diff --name-only HEAD 2>/dev/null | wc -l) files changed, $(git ls-files --others --exclude-standard 2>/dev/null | wc -l) new)"
    echo "sources: sha1 $SOURCES_SHA of the Swift and C sources as built (the same number: the same code)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$RESULTS/header.txt"

# Every 10 s: the load average, and the processes not started by this script (other
# users' compilers, tests...) using 10% of a core or more, from top's second (instantaneous) frame.
sample_load() {
    while :; do
        local procs
        procs="$(top -b -n 2 -d 0.5 -o %CPU -w 512 2>/dev/null | awk '/^top -/ { f++ } f == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 >= 10 { print $1, $9, $12 }' |
            while read -r pid cpu comm; do
                sid="$(awk '{ print $6 }' "/proc/$pid/stat" 2>/dev/null || echo "$MY_SID")"
                [[ "$sid" != "$MY_SID" ]] && printf '%s:%s ' "$comm" "$cpu"
            done || true)"
        echo "$(date +%s) $(cut -d' ' -f1 /proc/loadavg) $procs"
        sleep 10
    done
}
sample_load >"$RESULTS/load.txt" 2>/dev/null &
SAMPLER_PID=$!

# --- 1. the references, with kvs-bench interleaved ------------------------------------
log "1/4 references and kvs-bench interleaved: REPS=$REPS OPS=$OPS (run.sh; the longest step)"
# kvs-bench twice: with ValueBytes values (kvs-swift, the rows with targets) and with
# [UInt8] values (kvs-swift-array, rows for information).
EXTRA_PROGRAMS="$(printf '%q' "$KVS_BENCH");env KVS_BENCH_VALUE=array $(printf '%q' "$KVS_BENCH")" REPS="$REPS" OPS="$OPS" RAW="$RESULTS/anchors-raw.txt" \
    "$ANCHORS/run.sh" >"$RESULTS/anchors.txt" 2>"$RESULTS/anchors.log" || {
    cat "$RESULTS/anchors.log" >&2
    exit 1
}
grep -E '^run.sh: skipping' "$RESULTS/anchors.log" >&2 || true

# --- 2. snapshots: kvs-bench SNAP, Redis SAVE and start-up load (kvs-server for information) ---
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
now_ns() { date +%s%N; }

# alive PID: the process runs (a child that exited stays a zombie until waited for).
alive() {
    local state
    state="$(ps -o stat= -p "$1" 2>/dev/null || true)"
    [[ -n "$state" && "$state" != Z* ]]
}

# wait_ready PORT PID: polls PING until PONG (Redis answers -LOADING while it loads).
wait_ready() {
    local deadline=$((SECONDS + 120))
    until [[ "$(redis-cli -p "$1" ping 2>/dev/null)" == PONG ]]; do
        alive "$2" || { log "server on port $1 exited"; return 1; }
        ((SECONDS < deadline)) || { log "server on port $1 not ready after 120 s"; return 1; }
        sleep 0.01
    done
}

# stop_server PID: SIGTERM, then wait for it to exit.
stop_server() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local kept=() pid
    for pid in "${SERVER_PIDS[@]}"; do [[ "$pid" != "$1" ]] && kept+=("$pid"); done
    SERVER_PIDS=("${kept[@]+"${kept[@]}"}")
}

# The SET commands for kvs-bench's data: key:%08d, 64-byte values (the index as 8
# little-endian bytes, then 56 zero bytes), so that both sides save the same bytes.
python3 - "$TMP/snap.resp" "$SNAP_KEYS" <<'EOF'
import struct, sys
out, n = sys.argv[1], int(sys.argv[2])
zeros = bytes(56)
with open(out, "wb") as f:
    chunk = []
    for i in range(n):
        key = b"key:%08d" % i
        chunk.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$64\r\n%s%s\r\n" % (len(key), key, struct.pack("<Q", i), zeros))
        if len(chunk) == 65536:
            f.write(b"".join(chunk))
            chunk.clear()
    f.write(b"".join(chunk))
EOF

# start_server NAME PORT DIR: starts redis-server or kvs-server with no automatic saving;
# sets STARTED_PID.
start_server() {
    if [[ "$1" == redis-server ]]; then
        redis-server --port "$2" --bind 127.0.0.1 --save "" --appendonly no --dir "$3" \
            --dbfilename dump.rdb --daemonize no >>"$3/log" 2>&1 &
    else
        "$KVS_SERVER" --port "$2" --dir "$3" --dbfilename dump.kvs --save "" >>"$3/log" 2>&1 &
    fi
    STARTED_PID=$!
    SERVER_PIDS+=("$STARTED_PID")
}

# snapshot_server NAME: fills a fresh server with the keys, times SAVE, restarts it on the
# same folder and times the start-up until PING answers; prints raw lines (keys/s).
snapshot_server() {
    local name="$1" dir="$TMP/snap-$1" port pid out t0 t1 count loaded
    rm -rf "$dir"
    mkdir -p "$dir"
    port="$(free_port)"
    start_server "$name" "$port" "$dir"
    pid="$STARTED_PID"
    wait_ready "$port" "$pid"
    out="$(redis-cli -p "$port" --pipe <"$TMP/snap.resp" 2>&1)"
    grep -q 'errors: 0,' <<<"$out" || { log "$name: loading failed: $out"; return 1; }
    count="$(redis-cli -p "$port" dbsize)"
    [[ "$count" == "$SNAP_KEYS" ]] || { log "$name: DBSIZE $count, not $SNAP_KEYS"; return 1; }
    t0="$(now_ns)"
    out="$(redis-cli -p "$port" save)"
    t1="$(now_ns)"
    [[ "$out" == OK ]] || { log "$name: SAVE answered $out"; return 1; }
    echo "$name SNAP_save 1 $(awk -v n="$count" -v d=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (d / 1e9) }')"
    echo "# $name SNAP: $(du -b "$dir"/dump.* | awk '{ print $1 }') bytes; SAVE $(((t1 - t0) / 1000000)) ms" >&2
    stop_server "$pid"
    t0="$(now_ns)"
    start_server "$name" "$port" "$dir"
    pid="$STARTED_PID"
    wait_ready "$port" "$pid"
    t1="$(now_ns)"
    count="$(redis-cli -p "$port" dbsize)"
    [[ "$count" == "$SNAP_KEYS" ]] || { log "$name: $count keys after the restart, not $SNAP_KEYS"; return 1; }
    echo "$name SNAP_load_wall 1 $(awk -v n="$count" -v d=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (d / 1e9) }')"
    if [[ "$name" == redis-server ]]; then
        # The load itself, as Redis reports it ("DB loaded from disk: 0.842 seconds").
        loaded="$(sed -nE 's/.*DB loaded from disk: ([0-9.]+) seconds.*/\1/p' "$dir/log" | tail -n 1)"
        [[ -n "$loaded" ]] || { log "redis-server: no 'DB loaded from disk' line in its log"; return 1; }
        echo "$name SNAP_load 1 $(awk -v n="$count" -v s="$loaded" 'BEGIN { printf "%.0f", n / s }')"
    fi
    stop_server "$pid"
    rm -rf "$dir"
}

log "2/4 snapshots: kvs-bench SNAP, redis-server SAVE/load, kvs-server SAVE/start-up; REPS=$REPS"
: >"$RESULTS/snap-raw.txt"
for rep in $(seq 1 "$REPS"); do
    {
        "$KVS_BENCH" SNAP 1
        snapshot_server redis-server
        snapshot_server kvs-server
    } >>"$RESULTS/snap-raw.txt" 2>>"$RESULTS/snap.log"
done

# --- 3. background expiry -------------------------------------------------------------
log "3/4 background expiry (kvs-bench EXP, about 15 s each); REPS=$REPS"
: >"$RESULTS/exp-raw.txt"
for rep in $(seq 1 "$REPS"); do
    status=0
    out="$("$KVS_BENCH" EXP 1 2>&1)" || status=$?
    if [[ $status -eq 2 && "$out" == *"unknown workload"* ]]; then
        log "kvs-bench has no EXP workload yet: the expiry rows stay empty"
        break
    elif [[ $status -ne 0 ]]; then
        log "kvs-bench EXP failed ($status): $out"
        echo "# EXP failed (rep $rep): $out" >>"$RESULTS/exp-raw.txt"
        continue
    fi
    printf '%s\n' "$out" >>"$RESULTS/exp-raw.txt"
done

# --- 4. the server --------------------------------------------------------------------
log "4/4 kvs-server against redis-server (scripts/bench-server.sh): REPS=$REPS REQUESTS=$REQUESTS"
: >"$RESULTS/server-raw.txt"
KVS_SERVER="$KVS_SERVER" REPS="$REPS" REQUESTS="$REQUESTS" RAW="$RESULTS/server-raw.txt" \
    scripts/bench-server.sh >"$RESULTS/server.txt"

# --- medians, table, chart ---------------------------------------------------------------
# The medians of run.sh as it printed them, then the medians of every other raw figure.
{
    cat "$RESULTS/anchors.txt"
    cat "$RESULTS/snap-raw.txt" "$RESULTS/exp-raw.txt" "$RESULTS/server-raw.txt" | awk '
        /^#/ || NF != 4 || $4 !~ /^-?[0-9.]+$/ { next }
        { k = $1 " " $2 " " $3; if (!(k in n)) order[++m] = k; v[k, ++n[k]] = $4 + 0 }
        END {
            for (i = 1; i <= m; i++) {
                k = order[i]; c = n[k]
                for (a = 1; a <= c; a++) s[a] = v[k, a]
                for (a = 2; a <= c; a++) { x = s[a]; for (b = a - 1; b >= 1 && s[b] > x; b--) s[b + 1] = s[b]; s[b + 1] = x }
                med = (c % 2) ? s[(c + 1) / 2] : (s[c / 2] + s[c / 2 + 1]) / 2
                if (med == int(med)) printf "%s %.0f\n", k, med; else printf "%s %.3f\n", k, med
            }
        }'
} >"$RESULTS/medians.txt"

kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
{
    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    awk '
        { n++; s += $2; if ($2 > mx) mx = $2
          busy = 0
          for (i = 3; i <= NF; i++) { split($i, p, ":"); busy += p[2]; if (!(p[1] in seen)) { seen[p[1]] = 1; names = names (names ? ", " : "") p[1] } }
          others += busy }
        END {
            if (n) printf "during the run (%d samples, 10 s apart): 1-min load average mean %.2f, max %.2f; other processes used %.0f%% of a core on average (%s)\n",
                n, s / n, mx, others / n, names ? names : "none seen"
        }' "$RESULTS/load.txt"
    echo "duration: $(((SECONDS - STARTED) / 60)) min $(((SECONDS - STARTED) % 60)) s"
} >>"$RESULTS/header.txt"

python3 scripts/bench-chart.py --table "$RESULTS" >"$RESULTS/table.txt"
python3 scripts/bench-chart.py --markdown "$RESULTS" >"$RESULTS/table.md"
if [[ "$HAVE_MPL" == 1 ]]; then
    python3 scripts/bench-chart.py "$RESULTS" -o "$RESULTS/chart.png" >&2
else
    log "no chart: matplotlib is missing (pip install matplotlib, then: python3 scripts/bench-chart.py $RESULTS)"
fi

cat "$RESULTS/header.txt"
echo
cat "$RESULTS/table.txt"
echo
echo "results: $RESULTS (medians.txt, table.md$([[ "$HAVE_MPL" == 1 ]] && echo ", chart.png"))"
