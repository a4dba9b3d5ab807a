#!/usr/bin/env bash
# `npm test`: type-check, the whole suite under Bun, the portable part under
# Deno, and a closing line CI reads: `tests: N passed, N failed, N skipped`.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=./node_modules/.bin
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

echo "== typecheck (tsc)"
$bin/tsc --noEmit -p . || status=1

echo "== build (dist/vpnham, used by the binary tests)"
$bin/bun build.ts || status=1

echo "== bun test"
$bin/bun test --timeout 120000 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
bun_pass=$(grep -Eo '^ *[0-9]+ pass' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
bun_fail=$(grep -Eo '^ *[0-9]+ fail' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
bun_skip=$(grep -Eo '^ *[0-9]+ skip' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)

echo "== deno test (portable suite: the same node:test files)"
: >"$log"
# e2e and binary tests need the Bun-built binary or root; Deno runs the rest.
NO_COLOR=1 $bin/deno test -A --no-check --ignore=test/e2e test/ 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
summary=$(grep -E '^(ok|FAILED) \| ' "$log" | tail -1)
deno_pass=$(echo "$summary" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+' || echo 0)
deno_fail=$(echo "$summary" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+' || echo 0)
deno_skip=$(echo "$summary" | grep -Eo '[0-9]+ ignored' | grep -Eo '[0-9]+' || echo 0)

passed=$((bun_pass + deno_pass))
failed=$((bun_fail + deno_fail))
skipped=$((bun_skip + deno_skip))
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "bun: $bun_pass passed, $bun_fail failed, $bun_skip skipped; deno: $deno_pass passed, $deno_fail failed, $deno_skip skipped"
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
