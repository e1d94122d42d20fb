#!/usr/bin/env bash
# Error paths of scripts/kafka-local. Safe beside clusters running on the default ports: everything here
# uses KAFKA_LOCAL_PORT_OFFSET (default 1000, so 20092.., 30092..) and a temporary MIRROR_KAFKA_DIR, so
# its up/down/stop/start never touch the clusters in <repo>/.kafka-local. stop/start/restart are checked
# only on paths that need no running cluster (a stopped cluster is faked: data dir, no broker).
# Checks that need jars reuse the normal jar cache (${MIRROR_CACHE:-<repo>/.cache}); if it has no broker
# jars yet they are fetched once first (needs Maven Central).
#
#   scripts/tests/kafka-local-errors.sh        last line: "N passed, M failed"; exit 0 only if M = 0
set -euo pipefail

HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
KL="$REPO/scripts/kafka-local"
OFFSET=${KAFKA_LOCAL_TEST_PORT_OFFSET:-1000}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kafka-local-errors.XXXXXX")
STATE="$TMP/state"
PASS=0
FAIL=0
HELPER_PIDS=()

cleanup() {
  local p
  for p in "${HELPER_PIDS[@]+"${HELPER_PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done
  # Whatever a failed check may have left running in our temporary state dir.
  MIRROR_KAFKA_DIR="$STATE" KAFKA_LOCAL_PORT_OFFSET=$OFFSET "$KL" down >/dev/null 2>&1 || true
  rm -rf -- "$TMP"
}
trap cleanup EXIT

OUT=""
RC=0
# run ENV... -- ARGS...: run kafka-local with extra env, capture stdout+stderr in OUT and exit code in RC.
run() {
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  RC=0
  OUT=$(env MIRROR_KAFKA_DIR="$STATE" KAFKA_LOCAL_PORT_OFFSET="$OFFSET" "${envs[@]+"${envs[@]}"}" "$KL" "$@" 2>&1) || RC=$?
}

pass() { PASS=$((PASS + 1)); echo "ok   - $1"; }
fail() {
  FAIL=$((FAIL + 1))
  echo "FAIL - $1"
  shift
  printf '       %s\n' "$@"
  echo "       exit code: $RC; output (last 15 lines):"
  tail -n 15 <<<"$OUT" | sed 's/^/       | /'
}

# expect NAME RC_KIND PHRASE...: RC_KIND is 0 or nonzero; every PHRASE must occur in OUT.
expect() {
  local name=$1 kind=$2 ph missing=()
  shift 2
  if [[ $kind == 0 && $RC -ne 0 ]] || [[ $kind == nonzero && $RC -eq 0 ]]; then
    fail "$name" "expected exit code $kind"
    return
  fi
  for ph in "$@"; do [[ $OUT == *"$ph"* ]] || missing+=("$ph"); done
  if ((${#missing[@]})); then
    fail "$name" "missing phrase(s): ${missing[*]}"
    return
  fi
  pass "$name"
}

# Processes whose command line names a server.properties inside our temporary state dir.
our_procs() {
  local p
  for p in /proc/[0-9]*; do
    tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -- "$STATE/[AB]/server.properties" && echo "${p#/proc/}"
  done
  return 0
}

port_listening() { [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

# --------------------------------------------------------------------------------------------- setup

for p in $(seq $((19092 + OFFSET)) $((19099 + OFFSET))) $(seq $((29092 + OFFSET)) $((29099 + OFFSET))); do
  if port_listening "$p"; then
    echo "kafka-local-errors: port $p (default ports + offset $OFFSET) is in use; pick another offset:" >&2
    echo "  KAFKA_LOCAL_TEST_PORT_OFFSET=2000 $0" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
done

# Jars for the checks that get past the fetch step (port in use, timeout). Fetched once if missing.
run -- fetch
if ((RC != 0)); then
  echo "kafka-local-errors: could not fetch the broker jars (needed by checks 3 and 4):" >&2
  echo "$OUT" >&2
fi

# --------------------------------------------------------------------------------------------- checks

# 1. Java missing, Java too old.
run JAVA=/nonexistent/bin/java -- up
expect "1a java missing: up fails naming the apt package" nonzero "Java not found" "openjdk-17-jre-headless"

cat >"$TMP/old-java" <<'EOF'
#!/bin/sh
echo 'openjdk version "11.0.22" 2024-01-16' >&2
EOF
chmod +x "$TMP/old-java"
run JAVA="$TMP/old-java" -- up
expect "1b java 11: up fails, says too old" nonzero "Java 11.0.22" "too old" "openjdk-17-jre-headless"

# 2. Maven: missing; Maven Central unreachable (offline, empty local repo, empty jar cache).
run MIRROR_CACHE="$TMP/cache-nomvn" MVN=/nonexistent/mvn -- fetch
expect "2a mvn missing: fetch fails naming apt-get install maven" nonzero "Maven not found" "apt-get install -y maven"

mkdir -p "$TMP/empty-m2"
cat >"$TMP/mvn-offline" <<EOF
#!/bin/sh
exec mvn -o -Dmaven.repo.local="$TMP/empty-m2" "\$@"
EOF
chmod +x "$TMP/mvn-offline"
run MIRROR_CACHE="$TMP/cache-offline" MVN="$TMP/mvn-offline" -- up
expect "2b maven offline: up fails, says Maven Central could not be reached" nonzero \
  "Maven Central could not be reached" "Last lines from mvn" "m2/settings.xml" "scripts/kafka-local fetch"
if compgen -G "$TMP/cache-offline/kafka-*/lib*" >/dev/null; then
  fail "2c maven offline: no partial lib/ or marker left behind" "found: $(echo "$TMP"/cache-offline/kafka-*/lib*)"
else
  pass "2c maven offline: no partial lib/ or marker left behind"
fi
if our_procs | grep -q .; then fail "2d maven offline: no broker started"; else pass "2d maven offline: no broker started"; fi

# 3. A port in use by something else.
BUSY=$((29092 + OFFSET))
python3 -m http.server --bind 127.0.0.1 "$BUSY" >/dev/null 2>&1 &
HELPER_PIDS+=($!)
for _ in $(seq 1 50); do port_listening "$BUSY" && break; sleep 0.1; done
run -- up
expect "3a port $BUSY in use: up fails naming the port, the cluster and how to find the process" nonzero \
  "port $BUSY" "cluster B" "ss -ltnp 'sport = :$BUSY'"
if our_procs | grep -q .; then fail "3b port in use: no broker left running" "pids: $(our_procs | tr '\n' ' ')"; else pass "3b port in use: no broker left running"; fi
kill "${HELPER_PIDS[-1]}" 2>/dev/null || true
wait "${HELPER_PIDS[-1]}" 2>/dev/null || true
unset 'HELPER_PIDS[-1]'

# 4. A broker that does not come up in time.
run KAFKA_LOCAL_TIMEOUT=1 -- up
expect "4a timeout: up fails with the timeout message, the log tail and the log path" nonzero \
  "did not answer" "within 1 s (timeout)" "timed out after 1 s" "log: $STATE/A/logs/server.log" "KAFKA_LOCAL_TIMEOUT="
LEFT=$(our_procs | tr '\n' ' ')
if [[ -n $LEFT ]]; then fail "4b timeout: no broker process left running" "still running: $LEFT"; else pass "4b timeout: no broker process left running"; fi
if [[ -e $STATE/A/pid || -e $STATE/B/pid ]]; then fail "4c timeout: no pid file left"; else pass "4c timeout: no pid file left"; fi

# 5. status with nothing running; down with nothing running.
run -- status
expect "5a status with nothing running exits non-zero, one line per cluster" nonzero "A: down" "B: down" "127.0.0.1:$((19092 + OFFSET))"
run -- down
expect "5b down with nothing running is harmless" 0 "kafka-local:"
if [[ -e $STATE ]]; then fail "5c down removes the state dir"; else pass "5c down removes the state dir"; fi

# 6. Usage errors.
run -- frobnicate
expect "6a unknown command fails with usage" nonzero "unknown command 'frobnicate'" "usage: scripts/kafka-local"
run KAFKA_LOCAL_PORT_OFFSET=abc -- status
expect "6b bad KAFKA_LOCAL_PORT_OFFSET is rejected" nonzero "KAFKA_LOCAL_PORT_OFFSET='abc'"

# 7. stop / start / restart without a running cluster: bad cluster names, nothing set up, a stopped
#    cluster (faked: a data dir with meta.properties and a server.properties, no broker), a port taken.
run -- stop C
expect "7a stop C: unknown cluster, names A and B" nonzero "stop: unknown cluster 'C'" "A (source" "B (target" "usage: scripts/kafka-local stop A|B"
run -- start
expect "7b start without a cluster name fails with its usage" nonzero "start needs a cluster name" "usage: scripts/kafka-local start A|B"
run -- restart A B
expect "7c restart with two names fails" nonzero "exactly one cluster name" "usage: scripts/kafka-local restart A|B"
run -- start b
expect "7d start b: says names are upper case" nonzero "unknown cluster 'b'" "upper case" "scripts/kafka-local start B"

rm -rf -- "$STATE"
run -- start B
expect "7e start B never set up: says so and points to up" nonzero \
  "cluster B was never set up" "$STATE/B/data/meta.properties does not exist" "scripts/kafka-local up"
run -- restart B
expect "7f restart B never set up: fails the same way" nonzero "cluster B was never set up" "scripts/kafka-local up"
if our_procs | grep -q .; then fail "7g start/restart without data: no broker started"; else pass "7g start/restart without data: no broker started"; fi
run -- stop B
expect "7h stop B with nothing set up is harmless" 0 "nothing to stop"

# A stopped cluster B, faked: what `stop` leaves behind, minus the real metadata.
mkdir -p "$STATE/B/data" "$STATE/B/logs"
echo "# fake, written by kafka-local-errors.sh" >"$STATE/B/data/meta.properties"
echo "listeners=PLAINTEXT://127.0.0.1:$((29092 + OFFSET)),SASL_PLAINTEXT://127.0.0.1:$((29094 + OFFSET)),CONTROLLER://127.0.0.1:$((29093 + OFFSET)),SASL_SSL://127.0.0.1:$((29095 + OFFSET)),SSL://127.0.0.1:$((29096 + OFFSET)),SSL_EXPIRED://127.0.0.1:$((29097 + OFFSET)),SSL_WRONG_HOST://127.0.0.1:$((29098 + OFFSET)),PROXIED://127.0.0.1:$((29099 + OFFSET))" \
  >"$STATE/B/server.properties"
run -- status
expect "7i status shows a stopped cluster as stopped and exits non-zero" nonzero "A: down" "B: stopped" "scripts/kafka-local start B"
run -- stop B
expect "7j stop on a stopped cluster says so, exits 0" 0 "cluster B is already stopped" "$STATE/B/data"
if [[ -f $STATE/B/data/meta.properties ]]; then pass "7k stop keeps the data dir"; else fail "7k stop keeps the data dir"; fi

run KAFKA_LOCAL_PORT_OFFSET=$((OFFSET + 20)) -- start B
expect "7l start with another KAFKA_LOCAL_PORT_OFFSET than at setup fails before starting" nonzero \
  "lacks 127.0.0.1:$((29092 + OFFSET + 20))" "another KAFKA_LOCAL_PORT_OFFSET"

BUSY=$((29094 + OFFSET))
python3 -m http.server --bind 127.0.0.1 "$BUSY" >/dev/null 2>&1 &
HELPER_PIDS+=($!)
for _ in $(seq 1 50); do port_listening "$BUSY" && break; sleep 0.1; done
run -- start B
expect "7m start B with port $BUSY taken: names the port, the cluster, how to find the process" nonzero \
  "port $BUSY" "cluster B" "ss -ltnp 'sport = :$BUSY'" "scripts/kafka-local start B"
if our_procs | grep -q .; then fail "7n port taken: no broker started" "pids: $(our_procs | tr '\n' ' ')"; else pass "7n port taken: no broker started"; fi
kill "${HELPER_PIDS[-1]}" 2>/dev/null || true
wait "${HELPER_PIDS[-1]}" 2>/dev/null || true
unset 'HELPER_PIDS[-1]'

run -- help
expect "7o usage lists stop, start and restart" 0 "stop A|B" "start A|B" "restart A|B" "usage: scripts/kafka-local"

echo "$PASS passed, $FAIL failed"
((FAIL == 0))
