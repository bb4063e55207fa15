#!/usr/bin/env bash
# Builds the DocC documentation of KVS, KVSRedis, RESP and KVSMetrics with warnings as
# errors: an unresolved symbol link, an undocumented parameter or a broken article reference
# fails it.
#
#   scripts/docs.sh            the archives go to .build/plugins/Swift-DocC/outputs/<Target>.doccarchive
#
# Uses the swift-docc-plugin (a dependency in Package.swift) and the docc of the toolchain.
# Environment: SCRATCH_PATH (default .build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="/opt/swift/usr/bin:$PATH"

swift package --scratch-path "${SCRATCH_PATH:-.build}" generate-documentation \
  --target KVS --target KVSRedis --target RESP --target KVSMetrics \
  --warnings-as-errors
