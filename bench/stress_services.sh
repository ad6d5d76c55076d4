#!/usr/bin/env bash
# The service tests N times in a row (default 10): a test that fails at random is a defect.
# Not run by CI. Usage: bench/stress_services.sh [N] [pytest paths or -k ...]
# Needs DATABASE_URL and REDIS_URL (PostgreSQL and Redis), as .ci/run's stage 2.
# Reports the passes, and the shares and recovery times the cluster tests printed.
# Never with --reuse-db: the transactional tests flush the migrated data (roles, schedules,
# pages), and only a freshly created test database can restore it (serialized_rollback).
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(-m service)
: "${DATABASE_URL:?set DATABASE_URL=postgres://...}"
: "${REDIS_URL:?set REDIS_URL=redis://...}"
logs="$(mktemp -d /tmp/stress_services.XXXXXX)"
passed=0
for i in $(seq "$runs"); do
  start=$SECONDS
  if .venv/bin/pytest -p no:randomly -s -q "${targets[@]}" >"$logs/run$i.log" 2>&1; then
    passed=$((passed + 1)); verdict=pass
  else
    verdict=FAIL
  fi
  summary="$(grep -E '^(shares|recovery):' "$logs/run$i.log" | tr '\n' ' ')"
  echo "run $i/$runs: $verdict in $((SECONDS - start))s  $summary  $(tail -n1 "$logs/run$i.log")"
done
echo "passed $passed/$runs (logs in $logs)"
[ "$passed" -eq "$runs" ]
