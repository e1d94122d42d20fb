#!/usr/bin/env bash
# shellcheck disable=SC2016  # the conditions given to check are single-quoted on purpose: check evals them
# How the example workflows (examples/github/) react to each exit code of mirror, without Kafka: the
# workflows' own steps (scripts/tests/workflow-run.py) with a stub `mirror` that exits as told and a fake
# `gh` (scripts/tests/fake-gh). The journeys against real clusters are scripts/tests/journeys.sh.
#
#   scripts/tests/workflow-exit-codes.sh      (ctest: examples.github.exit_codes)
#
# plan:  3 (policy) fails the check with "Blocked by a policy" and still posts the comment and the plan;
#        1 (error) and an invalid spec fail it, and the comment says why (and no plan is kept)
# apply: no merged PR, no successful plan run, a spec on main that is not the planned one: refused,
#        mirror never runs; 3 and 1 from mirror apply fail with their own message
# drift: 3 opens the drift issue saying a policy blocks the repair
# Last line: "workflow-exit-codes: N passed, M failed"; exit 0 only if M = 0.
set -euo pipefail

HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
EXAMPLES="$REPO/examples/github"
command -v jq >/dev/null || { echo "workflow-exit-codes: jq is missing (apt-get install jq, or scripts/install-deps)"; exit 1; }
python3 -c 'import yaml' 2>/dev/null ||
  { echo "workflow-exit-codes: python3-yaml is missing (apt-get install python3-yaml, or scripts/install-deps)"; exit 1; }

PASS=0
FAIL=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/workflow-exit-codes.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT
check() {  # NAME CONDITION: passes when the condition (shell code, run with eval) holds
  local name=$1
  if eval "$2"; then
    PASS=$((PASS + 1))
    echo "ok   - $name"
  else
    FAIL=$((FAIL + 1))
    echo "FAIL - $name"
    echo "       logs: $(tail -n 8 "$LOGS"/*.log 2>/dev/null | sed 's/^/       | /')"
  fi
}

# The stub: `mirror plan` exits $STUB_PLAN_RC (writing a plan for 0/2/3), `mirror validate`
# $STUB_VALIDATE_RC, `mirror apply` $STUB_APPLY_RC; every call is logged to $TMP/mirror-calls.
mkdir -p "$TMP/bin" "$TMP/github" "$TMP/logs" "$TMP/ctx"
cat >"$TMP/bin/mirror" <<'EOF'
#!/usr/bin/env bash
echo "$*" >>"$STUB_DIR/mirror-calls"
cmd=$1; shift
ref="" out=""
while (($#)); do
  case $1 in --ref) ref=$2; shift ;; --out) out=$2; shift ;; esac
  shift
done
case $cmd in
  validate)
    if [[ ${STUB_VALIDATE_RC:-0} != 0 ]]; then echo "::error file=mirror/mirror.yaml,line=3,col=1::stub: flows must be a list"; fi
    exit "${STUB_VALIDATE_RC:-0}" ;;
  plan)
    rc=${STUB_PLAN_RC:-2}
    if [[ $rc == 1 ]]; then echo "mirror plan: cannot read the clusters: stub-unreachable" >&2; exit 1; fi
    [[ -n $out ]] && printf '{"format_version": "1", "spec": {"commit": "%s"}, "fingerprint": "stub-%s", "actions": []}\n' "$ref" "$rc" >"$out"
    echo "### mirror plan: stub plan (exit $rc)"
    if [[ $rc == 3 ]]; then echo "mirror plan: denied by policy no-topic-deletion (hard-mandatory)" >&2; fi
    exit "$rc" ;;
  show) echo "### mirror plan: stub rendering" ;;
  apply)
    echo "mirror apply: stub exit ${STUB_APPLY_RC:-0}" >&2
    exit "${STUB_APPLY_RC:-0}" ;;
  *) exit 64 ;;
esac
EOF
chmod +x "$TMP/bin/mirror"
ln -s "$HERE/fake-gh" "$TMP/bin/gh"
export PATH="$TMP/bin:$PATH" STUB_DIR="$TMP" FAKE_GH_DIR="$TMP/github"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com

# A repository: main with a spec, PR #1's head on top, and a later main whose spec differs from PR #1's.
ORIGIN="$TMP/origin.git"
git init -q --bare -b main "$ORIGIN"
git clone -q "$ORIGIN" "$TMP/dev" 2>/dev/null
git -C "$TMP/dev" checkout -q -b main
mkdir -p "$TMP/dev/mirror"
echo "version: 1  # base" >"$TMP/dev/mirror/mirror.yaml"
git -C "$TMP/dev" add mirror && git -C "$TMP/dev" commit -qm base
BASE_SHA=$(git -C "$TMP/dev" rev-parse HEAD)
echo "version: 1  # pr 1" >"$TMP/dev/mirror/mirror.yaml"
git -C "$TMP/dev" commit -qam "pr 1"
PR_HEAD=$(git -C "$TMP/dev" rev-parse HEAD)
git -C "$TMP/dev" push -q origin main "HEAD:refs/pull/1/head"
MAIN_SAME=$PR_HEAD  # a fast-forward merge: main's spec is PR #1's
echo "version: 1  # someone else" >"$TMP/dev/mirror/mirror.yaml"
git -C "$TMP/dev" commit -qam "another change"
git -C "$TMP/dev" push -q origin main
MAIN_OTHER=$(git -C "$TMP/dev" rev-parse HEAD)

LOGS=""
JOB_RC=0
N=0
run_job() {  # WORKFLOW JOB WORKSPACE_REF CONTEXT_GITHUB_JSON [EXTRA_CONTEXT]
  N=$((N + 1))
  LOGS="$TMP/logs/$N"
  local ws="$TMP/ws/$N"
  git clone -q "file://$ORIGIN" "$ws"
  git -C "$ws" checkout -q --detach "$3"
  printf '{"github": {"repository": "acme/specs", %s}, "secrets": {}, "vars": {"MIRROR_ALLOW_BOOTSTRAP": "127.0.0.1:*"}%s}\n' "$4" "${5:-}" >"$TMP/ctx/$N.json"
  JOB_RC=0
  python3 "$HERE/workflow-run.py" "$EXAMPLES/$1" --job "$2" --context "$TMP/ctx/$N.json" --workspace "$ws" \
    --runner-temp "$TMP/runner/$N" --logs "$LOGS" --skip get-mirror --show-lines 0 >"$LOGS.out" 2>&1 || JOB_RC=$?
}
has() { grep -rqF -- "$1" "$LOGS"; }
plan_run() {  # RUN_ID
  run_job mirror-plan.yml plan "$PR_HEAD" "\"run_id\": $1, \"sha\": \"$PR_HEAD\", \"event_name\": \"pull_request_target\", \"ref_name\": \"1/merge\", \"event\": {\"pull_request\": {\"number\": 1, \"head\": {\"sha\": \"$PR_HEAD\"}, \"base\": {\"sha\": \"$BASE_SHA\"}}}"
}
apply_run() {  # RUN_ID SHA_ON_MAIN
  run_job mirror-apply.yml apply "$2" "\"run_id\": $1, \"sha\": \"$2\", \"event_name\": \"push\", \"ref_name\": \"main\"" ', "inputs": {}'
}
comment() { jq -r '[.comments[] | select(.issue == 1)] | last | .body // ""' "$FAKE_GH_DIR/state.json"; }
ncomments() { jq '[.comments[] | select(.issue == 1)] | length' "$FAKE_GH_DIR/state.json"; }
job_failed() { ((JOB_RC == 1)); }
job_ok() { ((JOB_RC == 0)); }

# ---------------------------------------------------------------------------------------------- plan
STUB_PLAN_RC=3 plan_run 11
check "plan exit 3: the check fails" job_failed
check "plan exit 3: says it is blocked by a policy" 'has "::error title=Blocked by a policy::"'
check "plan exit 3: the comment is posted, with the warning and the plan" \
  '[[ $(ncomments) == 1 && $(comment) == *"**Blocked by a policy** (exit 3)"* && $(comment) == *"stub plan (exit 3)"* && $(comment) == *"no-topic-deletion"* && $(comment) != *"Merging applies exactly"* ]]'
check "plan exit 3: the plan is kept as an artifact" 'test -s "$FAKE_GH_DIR/runs/11/artifacts/mirror-plan-$PR_HEAD/plan.json"'

STUB_PLAN_RC=1 plan_run 12
check "plan exit 1: the check fails" job_failed
check "plan exit 1: says the plan failed" 'has "::error title=mirror plan failed::"'
check "plan exit 1: the same comment now says the plan failed, and why" \
  '[[ $(ncomments) == 1 && $(comment) == *"**mirror plan failed** (exit 1)"* && $(comment) == *"stub-unreachable"* && $(comment) != *"stub plan"* ]]'
check "plan exit 1: no plan is kept" '[[ ! -e $FAKE_GH_DIR/runs/12/artifacts/mirror-plan-$PR_HEAD ]]'

STUB_VALIDATE_RC=1 plan_run 13
check "invalid spec: the check fails" job_failed
check "invalid spec: the annotation names the spec's line" 'has "::error file=mirror/mirror.yaml,line=3,col=1::"'
check "invalid spec: the comment says so" '[[ $(comment) == *"the spec at $PR_HEAD is invalid"* ]]'
check "invalid spec: mirror plan is not run (2 plan calls for 3 runs)" '[[ $(grep -c "^plan" "$TMP/mirror-calls") == 2 ]]'

# --------------------------------------------------------------------------------------------- apply
: >"$TMP/mirror-calls"
apply_run 21 "$MAIN_SAME"
check "apply without a merged PR: fails, says there is no reviewed plan" 'job_failed && has "::error title=No reviewed plan::"'
gh __fake merged-pr "$MAIN_SAME" 1 "$PR_HEAD" main
apply_run 22 "$MAIN_SAME"
check "apply when the PR's plan runs all failed: refused, says to re-run the plan" \
  'job_failed && has "has no successful mirror-plan.yml run"'
STUB_PLAN_RC=2 plan_run 14
check "plan exit 2: the check passes" job_ok
gh __fake merged-pr "$MAIN_OTHER" 1 "$PR_HEAD" main
apply_run 23 "$MAIN_OTHER"
check "apply when main's spec is not the planned one: refused" \
  'job_failed && has "::error title=The reviewed plan is not of this spec::"'
check "mirror apply never ran so far" '! grep -q "^apply" "$TMP/mirror-calls"'
STUB_APPLY_RC=3 apply_run 24 "$MAIN_SAME"
check "apply exit 3: fails, blocked by a policy, nothing changed" \
  'job_failed && has "::error title=Blocked by a policy: nothing was changed::"'
STUB_APPLY_RC=1 apply_run 25 "$MAIN_SAME"
check "apply exit 1: fails, says what to do" 'job_failed && has "plan again and apply: it converges"'
STUB_APPLY_RC=0 apply_run 26 "$MAIN_SAME"
check "apply exit 0: succeeds with the plan of run 14, at the PR's head" \
  'job_ok && grep -q -- "^apply .*/plan.json --git . --ref $PR_HEAD --path mirror --policies-ref $MAIN_SAME --detach" "$TMP/mirror-calls"'

# --------------------------------------------------------------------------------------------- drift
STUB_PLAN_RC=3 run_job mirror-drift.yml drift "$MAIN_OTHER" "\"run_id\": 31, \"sha\": \"$MAIN_OTHER\", \"event_name\": \"schedule\", \"ref_name\": \"main\""
check "drift exit 3: an issue, saying a policy blocks the repair" \
  'job_ok && jq -e ".issues | length == 1 and (.[0].body | contains(\"A policy denies this plan\"))" "$FAKE_GH_DIR/state.json" >/dev/null'

echo
echo "workflow-exit-codes: $PASS passed, $FAIL failed"
((FAIL == 0))
