#!/usr/bin/env bash
# Runs the tap suites and ends with the line CI reads: "N passed, N failed".
# Each t.test() block counts once; a test file that dies outside any block
# counts as one failure.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(dist/test)
mapfile -t files < <(find "${targets[@]}" -name '*.test.js' | sort)
# TAP_TIMEOUT (seconds per test file) overrides package.json, for make fuzz.
npx tap --reporter=tap --jobs=1 ${TAP_TIMEOUT:+--timeout=$TAP_TIMEOUT} "${files[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -acE '^    ok [0-9]+ ' "$log")
failed=$(grep -acE '^    not ok [0-9]+ ' "$log")
top_failed=$(grep -acE '^not ok [0-9]+ ' "$log")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=$((top_failed > 0 ? top_failed : 1)); fi
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
