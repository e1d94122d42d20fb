#!/usr/bin/env bash
# Tests the example Rego policy (mirror_plan.rego) with OPA, as ctest's examples.policies.opa does:
#   1. it compiles in strict mode and is formatted as `opa fmt` formats it;
#   2. its unit tests pass (mirror_plan_test.rego, `opa test`);
#   3. on the sample plans, real renderings kept in sync by policies/policies_test.cpp: testdata/pass.json
#      gives no denial, testdata/fail.json exactly the denials in testdata/fail.expected.
#
#   examples/policies/run-tests.sh      # installs opa first when missing (scripts/install-opa, needs Go)
#
# Env: OPA=/path/to/opa uses that binary instead.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
log() { echo "examples/policies: $*" >&2; }

opa=${OPA:-}
if [[ -z $opa ]]; then
  if ! opa=$("$repo/scripts/install-opa"); then
    log "error: opa is not installed and scripts/install-opa could not install it (its message is above)."
    exit 1
  fi
fi

cd "$here"
policy=(mirror_plan.rego)
tests=(mirror_plan_test.rego)

"$opa" check --strict "${policy[@]}" "${tests[@]}"
if ! "$opa" fmt --list --fail "${policy[@]}" "${tests[@]}" >/dev/null; then
  log "error: not formatted as opa fmt formats them: $("$opa" fmt --list "${policy[@]}" "${tests[@]}" | tr '\n' ' ')"
  log "  fix: $opa fmt -w ${policy[*]} ${tests[*]}"
  exit 1
fi

"$opa" test "${policy[@]}" "${tests[@]}"

denials() { "$opa" eval --format raw -d "${policy[@]}" -i "$1" 'concat("\n", sort(data.mirror.plan.deny))'; }

got=$(denials testdata/pass.json)
if [[ -n $got ]]; then
  log "error: testdata/pass.json should pass, but the policy denies it:"
  echo "$got" >&2
  exit 1
fi

if ! diff -u testdata/fail.expected <(denials testdata/fail.json); then
  log "error: the denials of testdata/fail.json (+) differ from testdata/fail.expected (-)."
  exit 1
fi
log "ok: strict check, fmt, unit tests, pass.json allowed, fail.json denied with the expected $(wc -l <testdata/fail.expected) message(s)"
