#!/usr/bin/env bash
# Runs the tap suites and ends with the line CI reads: "N passed, N failed".
# Each t.test() block counts once; a test file that dies outside any block
# counts as one failure.
#
# Test files run two at a time (TEST_JOBS, default 2): every file builds its
# own namespaces, state directory and pins, named uniquely per run, so two
# never meet. Most of an end-to-end file's time is spent waiting (for a
# daemon, a timeout that proves a drop, a confirm window), which the other
# file fills. The files whose assertions depend on packet rates or on having
# the CPUs to themselves (floods, rate-limited events, sampled drops) run
# afterwards, one at a time: EXCLUSIVE below.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(dist/test)
jobs=${TEST_JOBS:-2}
EXCLUSIVE='/(e2e/(flood|losses|packet-drop|screens)|bpf/(screens|flood-meter))\.test\.js$'
# tap runs them in name order: the end-to-end files (the long ones) before the
# many short fuzz, native and unit files, which fill both lanes at the end.
mapfile -t all < <(find "${targets[@]}" -name '*.test.js' | sort)
shared=() alone=()
for f in "${all[@]}"; do
  if [[ $f =~ $EXCLUSIVE ]]; then alone+=("$f"); else shared+=("$f"); fi
done
# TAP_TIMEOUT (seconds per test file) overrides package.json, for make fuzz.
tap() { npx tap --reporter=tap --jobs="$1" ${TAP_TIMEOUT:+--timeout=$TAP_TIMEOUT} "${@:2}"; }
rc=0
if [ ${#shared[@]} -gt 0 ]; then
  tap "$jobs" "${shared[@]}" 2>&1 | tee -a "$log"
  r=${PIPESTATUS[0]}; [ "$r" -ne 0 ] && rc=$r
fi
if [ ${#alone[@]} -gt 0 ]; then
  tap 1 "${alone[@]}" 2>&1 | tee -a "$log"
  r=${PIPESTATUS[0]}; [ "$r" -ne 0 ] && rc=$r
fi
passed=$(grep -acE '^    ok [0-9]+ ' "$log")
failed=$(grep -acE '^    not ok [0-9]+ ' "$log")
top_failed=$(grep -acE '^not ok [0-9]+ ' "$log")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=$((top_failed > 0 ? top_failed : 1)); fi
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
