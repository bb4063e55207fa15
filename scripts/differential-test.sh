#!/usr/bin/env bash
# Differential test of kvs-server against redis-server (Tests/differential/differential.py).
#
# Builds kvs-server in release (unless KVS_SERVER names a binary), then runs the harness in
# CI mode: fixed seeds, a few minutes, exit status non-zero on any divergence, crash or hang,
# each printed as a minimised redis-cli reproduction with both servers' replies.
# Extra arguments go to the harness instead of --ci (for example: --seed 7 --commands 1000000).
#
# Needs redis-server (apt-get install -y redis-server) and python3 (standard library only).
# Environment: SCRATCH_PATH (default .build), KVS_SERVER (a kvs-server binary to use instead
# of building one).
set -euo pipefail
cd "$(dirname "$0")/.."

SCRATCH="${SCRATCH_PATH:-.build}"
for tool in redis-server python3; do
    command -v "$tool" >/dev/null || { echo "differential-test: $tool is missing (apt-get install -y redis-server)"; exit 1; }
done

if [[ -n "${KVS_SERVER:-}" ]]; then
    BIN="$KVS_SERVER"
else
    swift build -c release --scratch-path "$SCRATCH" --product kvs-server >&2
    BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/kvs-server"
fi
[[ -x "$BIN" ]] || { echo "differential-test: no kvs-server at $BIN"; exit 1; }

python3 -m unittest discover -s Tests/differential
if (($# == 0)); then
    set -- --ci
fi
exec python3 Tests/differential/differential.py --kvs-server "$BIN" "$@"
