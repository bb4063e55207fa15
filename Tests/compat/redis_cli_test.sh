#!/usr/bin/env bash
# Compatibility test: redis-cli (Debian's redis-tools) against a running kvs-server.
# Usage: Tests/compat/redis_cli_test.sh PORT
set -euo pipefail
PORT="${1:?port}"
CLI=(redis-cli -h 127.0.0.1 -p "$PORT")
failures=0

check() {  # check EXPECTED ARGS...
    local expected="$1"
    shift
    local got
    got="$("${CLI[@]}" "$@" 2>&1)"
    if [[ "$got" != "$expected" ]]; then
        echo "FAIL: redis-cli $* -> '$got' (expected '$expected')"
        failures=$((failures + 1))
    else
        echo "ok: $*"
    fi
}

check OK flushall
check OK set hello world
check world get hello
check "" get missing
check 1 exists hello
check 11 append hello "!!!!!!"
check 1 incr counter
check 6 incrby counter 5
check "1.5" incrbyfloat float 1.5
check OK mset a 1 b 2
check "$(printf '1\n2\n')" mget a b
check string type a
check 1 expire a 100
check 100 ttl a
check 1 persist a
check 5 dbsize
check PONG ping
check "ERR unknown command 'nosuch', with args beginning with: 'x' " nosuch x
check "ERR wrong number of arguments for 'get' command" get
check OK select 1
check "ERR DB index is out of range" select 99

# Pipe mode and inline commands over stdin, as `redis-cli` sends them.
got="$(printf 'SET piped yes\nGET piped\n' | "${CLI[@]}")"
if [[ "$got" != "$(printf 'OK\nyes')" ]]; then
    echo "FAIL: stdin commands -> '$got'"
    failures=$((failures + 1))
else
    echo "ok: stdin commands"
fi

# --pipe (mass insertion) uses raw RESP and an ECHO marker.
got="$(for i in $(seq 1 1000); do printf '*3\r\n$3\r\nSET\r\n$%d\r\nkey%d\r\n$1\r\nv\r\n' "$((3 + ${#i}))" "$i"; done | "${CLI[@]}" --pipe 2>&1 | tail -1)"
if [[ "$got" != *"errors: 0, replies: 1000"* ]]; then
    echo "FAIL: --pipe -> '$got'"
    failures=$((failures + 1))
else
    echo "ok: --pipe"
fi
failures_before_info=$failures
"${CLI[@]}" info server | grep -q '^redis_version:' || { echo "FAIL: info server"; failures=$((failures + 1)); }
"${CLI[@]}" -3 hello 3 | grep -q 'proto' || { echo "FAIL: hello 3"; failures=$((failures + 1)); }
"${CLI[@]}" --scan --pattern 'key1*' | grep -q '^key1000$' || { echo "FAIL: --scan"; failures=$((failures + 1)); }
[[ $failures == "$failures_before_info" ]] && echo "ok: info, hello 3, --scan"

# kvs-server's malloc counts the process's heap (Sources/CKVSAllocator, on Linux with glibc):
# 10,000 values of 1,000 bytes raise INFO used_memory by at least 10 MB, FLUSHALL takes it
# back, and mem_allocator names the counting allocator.
if [[ "$(uname -s)" == Linux ]]; then
    memory_field() { "${CLI[@]}" info memory | tr -d '\r' | sed -n "s/^$1://p"; }
    before="$(memory_field used_memory)"
    value="$(head -c 1000 /dev/zero | tr '\0' x)"
    got="$(for i in $(seq 1 10000); do
        printf '*3\r\n$3\r\nSET\r\n$%d\r\nmem:%d\r\n$1000\r\n%s\r\n' "$((4 + ${#i}))" "$i" "$value"
    done | "${CLI[@]}" --pipe 2>&1 | tail -1)"
    filled="$(memory_field used_memory)"
    "${CLI[@]}" flushall >/dev/null
    flushed="$(memory_field used_memory)"
    allocator="$(memory_field mem_allocator)"
    if [[ "$got" != *"errors: 0, replies: 10000"* || "$allocator" != libc-counted ]] ||
        ((filled - before < 10000000 || filled - flushed < 10000000)); then
        echo "FAIL: used_memory $before -> $filled after 10,000 SETs of 1,000 bytes -> $flushed after FLUSHALL," \
            "mem_allocator $allocator ($got)"
        failures=$((failures + 1))
    else
        echo "ok: used_memory $before -> $filled -> $flushed (mem_allocator $allocator)"
    fi
fi

# maxmemory 50mb with allkeys-lru, filled 10 times past it by redis-benchmark (500,000 SETs
# of 1,000 bytes): used_memory stays within the limit (plus what the last commands added),
# keys were evicted, and the resident set grew by at most 1.25 times the limit (glibc's
# fragmentation and the tables' freed blocks); then noeviction past a 1-byte limit refuses
# writes with the OOM error. The server is left with no limit and no keys.
if [[ "$(uname -s)" == Linux ]] && command -v redis-benchmark >/dev/null; then
    memory_field() { "${CLI[@]}" info "$2" | tr -d '\r' | sed -n "s/^$1://p"; }
    "${CLI[@]}" flushall >/dev/null
    rss_before="$(memory_field used_memory_rss memory)"
    limit=$((50 * 1024 * 1024))
    "${CLI[@]}" config set maxmemory 50mb maxmemory-policy allkeys-lru >/dev/null
    redis-benchmark -p "$PORT" -t set -n 500000 -r 100000000 -d 1000 -c 20 -P 16 -q >/dev/null 2>&1
    used="$(memory_field used_memory memory)"
    rss="$(memory_field used_memory_rss memory)"
    evicted="$(memory_field evicted_keys stats)"
    keys="$("${CLI[@]}" dbsize)"
    "${CLI[@]}" config set maxmemory-policy noeviction maxmemory 1 >/dev/null
    oom="$("${CLI[@]}" set one-more x)"
    "${CLI[@]}" config set maxmemory 0 >/dev/null
    "${CLI[@]}" flushall >/dev/null
    if ((used > limit + 1024 * 1024 || evicted < 400000 || keys < 10000 || rss - rss_before > limit * 5 / 4)) ||
        [[ "$oom" != "OOM command not allowed when used memory > 'maxmemory'." ]]; then
        echo "FAIL: maxmemory 50mb: used_memory $used, RSS $rss_before -> $rss, evicted $evicted, keys $keys, $oom"
        failures=$((failures + 1))
    else
        echo "ok: maxmemory 50mb filled 10x: used_memory $used, RSS +$(((rss - rss_before) / 1048576)) MiB," \
            "evicted $evicted, $keys keys left, then OOM"
    fi
fi

if ((failures > 0)); then
    echo "redis-cli compatibility: $failures failure(s)"
    exit 1
fi
echo "redis-cli compatibility: all passed"
