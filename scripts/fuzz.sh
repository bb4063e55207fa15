#!/usr/bin/env bash
# Coverage-guided fuzzing of kvs-server's input paths with libFuzzer (Tests/Fuzz).
#
#   scripts/fuzz.sh [target|all] [seconds]     default: all 60
#
# Targets: fuzz-resp (the RESP decoder, encoder and pipeline peek), fuzz-commands (commands run
# by the connection handler on an in-process server). Each is built in release with libFuzzer
# and AddressSanitizer (scratch path .build-fuzz), then run for the given seconds, one after the
# other, from the seed corpus in Tests/Fuzz/Corpus/<target> plus what earlier runs found
# (.build-fuzz/corpus/<target>). Exits non-zero when a target crashes, times out (10 s per
# input) or runs out of memory; the input is saved in .build-fuzz/artifacts/<target>/ and
# printed. Reproduce one with:  .build-fuzz/release/<target> <artifact>
#
# FUZZ_KEEP_GOING=1 keeps fuzzing after a crash (libFuzzer's fork mode), saving every
# artifact; the script still exits non-zero if any was saved.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="/opt/swift/usr/bin:$PATH"
root="$(pwd)"

targets=(fuzz-resp fuzz-commands)
which="${1:-all}"
seconds="${2:-60}"
case "$which" in
  all) ;;
  fuzz-resp | fuzz-commands) targets=("$which") ;;
  *)
    echo "usage: scripts/fuzz.sh [all|fuzz-resp|fuzz-commands] [seconds]" >&2
    exit 2
    ;;
esac

# SwiftPM names the root package after its folder, and the fuzz package (Tests/Fuzz) is named
# "fuzz" the same way: a clone in a folder called fuzz cannot depend on itself.
if [[ "$(basename "$root" | tr '[:upper:]' '[:lower:]')" == "fuzz" ]]; then
  echo "fuzz.sh: the repository's folder must not be named 'fuzz' (SwiftPM would give the root package and Tests/Fuzz the same name)" >&2
  exit 2
fi

scratch="$root/.build-fuzz"
build=(swift build -c release --package-path Tests/Fuzz --scratch-path "$scratch"
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)
echo "=== build: ${build[*]}"
if [[ ${#targets[@]} -eq 1 ]]; then
  "${build[@]}" --product "${targets[0]}" 2>&1 | grep -v "Cannot export local symbol" || true
else
  "${build[@]}" 2>&1 | grep -v "Cannot export local symbol" || true
fi
for target in "${targets[@]}"; do
  [[ -x "$scratch/release/$target" ]] || { echo "fuzz.sh: building $target failed" >&2; exit 1; }
done

# The Swift runtime's crash backtracer reads the stack in a way AddressSanitizer reports, and
# then hangs: libFuzzer's own report says where a trap happened.
export SWIFT_BACKTRACE=enable=no

status=0
for target in "${targets[@]}"; do
  corpus="$scratch/corpus/$target"
  artifacts="$scratch/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  log="$scratch/$target.log"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -dict=Tests/Fuzz/resp.dict -artifact_prefix="$artifacts/")
  if [[ "${FUZZ_KEEP_GOING:-0}" == 1 ]]; then
    options+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  fi
  touch "$log.start"  # artifacts newer than this are this run's
  echo "=== $target for ${seconds}s: $scratch/release/$target ${options[*]} $corpus Tests/Fuzz/Corpus/$target"
  set +e
  "$scratch/release/$target" "${options[@]}" "$corpus" "Tests/Fuzz/Corpus/$target" >"$log" 2>&1
  code=$?
  set -e
  # Progress lines (coverage, features, corpus, executions per second), then the summary.
  grep -E "^#[0-9]+\s+(INITED|pulse|DONE)|^#[0-9]+: cov:" "$log" | tail -n 4 || true
  grep -E "^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)" "$log" || true
  echo "corpus: $(find "$corpus" -type f | wc -l) files found, $(find "Tests/Fuzz/Corpus/$target" -type f | wc -l) seeds"
  found=$(find "$artifacts" -type f -newer "$log.start")
  if [[ $code -ne 0 || -n "$found" ]]; then
    echo "=== $target FAILED (libFuzzer exit code $code, $(echo "$found" | grep -c . || true) new artifacts); the report:"
    grep -E "Fatal error|ERROR: |==[0-9]+==|SUMMARY|deadly signal|Test unit written|ALARM|#[0-9]+ 0x" "$log" | head -n 40 || true
    for artifact in $found; do
      echo "--- $artifact (reproduce: $scratch/release/$target $artifact)"
      python3 -c 'import sys; print(repr(open(sys.argv[1], "rb").read())[:2000])' "$artifact" 2>/dev/null || od -c "$artifact" | head -n 20
    done
    [[ $code -ne 0 ]] && status=$code || status=1
  fi
done
exit $status
