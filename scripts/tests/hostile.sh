#!/usr/bin/env bash
# The hostile corpus (testdata/hostile/, docs/security.md): every input a malicious pull request (or a
# tampered artifact) could hand mirror, each run through the real CLI with its exact expected outcome.
#
#   scripts/tests/hostile.sh BUILD/mirror      (ctest: security.hostile_corpus; no Kafka needed)
#
# testdata/hostile/cases.tsv lists the cases: name, expected exit code, a text the output must contain,
# ("-": anything), and the command (run by bash in testdata/hostile/, with $MIRROR the binary under test). For every case,
# whatever it is, the runner also checks that:
#   - no canary appears in the output: HOSTILE_CANARY (in the environment), the files under
#     files/ and the secret values of mm2/*.properties (any line "HOSTILE-...");
#   - no command ran: HOSTILE_MARKER (a path the specs try to create) does not exist;
#   - it ended within 20 s (hostile input must be refused fast, not by a timeout).
# Last line: "hostile: N passed, M failed"; exit 0 only if M = 0.
set -uo pipefail

HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
MIRROR=$(readlink -f -- "${1:?usage: hostile.sh PATH/TO/mirror}")
CORPUS="$REPO/testdata/hostile"
export MIRROR

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mirror-hostile.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT
export HOSTILE_CANARY="HOSTILE-canary-env-5d1e0b"
export HOSTILE_MARKER="$TMP/marker"
export HOSTILE_TMP="$TMP"
# Each case starts from no operator settings; a case that needs one sets it in its command.
unset MIRROR_ALLOW_ENV MIRROR_ALLOW_FILES MIRROR_ALLOW_BOOTSTRAP MIRROR_ALLOW_CLIENT_PROPERTIES MIRROR_KAFKA_DEBUG
export MIRROR_GIT_CACHE="$TMP/git-cache"

# Every secret that must never be printed: the env canary, and every "HOSTILE-..." word in the corpus's
# secret files (files/ and the MM2 properties).
mapfile -t CANARIES < <({
  echo "$HOSTILE_CANARY"
  grep -rhoE 'HOSTILE-[A-Za-z0-9-]+' "$CORPUS/files" "$CORPUS/mm2" | sed -E 's/-+END.*//'
} | sort -u)

PASS=0
FAIL=0
while IFS=$'\t' read -r name want_rc want_text cmd; do
  [[ -z $name || $name == \#* ]] && continue
  rm -f -- "$HOSTILE_MARKER"
  out=$(cd "$CORPUS" && timeout 20 bash -c "$cmd" 2>&1)
  rc=$?
  problems=()
  ((rc == 124)) && problems+=("did not finish within 20 s")
  [[ $rc == "$want_rc" ]] || problems+=("exit code $rc, expected $want_rc")
  [[ $want_text == - || $out == *"$want_text"* ]] || problems+=("output lacks: $want_text")
  for c in "${CANARIES[@]}"; do
    [[ $out == *"$c"* ]] && problems+=("a canary secret was printed: ${c:0:12}...")
  done
  [[ -e $HOSTILE_MARKER ]] && problems+=("a command from the input ran (created $HOSTILE_MARKER)")
  if ((${#problems[@]} == 0)); then
    PASS=$((PASS + 1))
    echo "ok   - $name"
  else
    FAIL=$((FAIL + 1))
    echo "FAIL - $name: $cmd"
    for p in "${problems[@]}"; do echo "       $p"; done
    echo "       output (last 15 lines):"
    tail -n 15 <<<"$out" | sed 's/^/         /'
  fi
done <"$CORPUS/cases.tsv"

# The git cache must hold no credential from any case.
if [[ -d $MIRROR_GIT_CACHE ]] && grep -rqF -e "$HOSTILE_CANARY" "$MIRROR_GIT_CACHE"; then
  FAIL=$((FAIL + 1))
  echo "FAIL - git cache: a credential was written under $MIRROR_GIT_CACHE"
else
  PASS=$((PASS + 1))
  echo "ok   - git cache: no credential at rest"
fi
echo "hostile: $PASS passed, $FAIL failed"
((FAIL == 0))
