#!/usr/bin/env bash
# shellcheck disable=SC2015  # "cond && pass || fail": pass never fails
# The three GitOps journeys of examples/github/, end to end against the local clusters: the workflows'
# own steps (run by scripts/tests/workflow-run.py, with a fake `gh`: scripts/tests/fake-gh) on a real
# git repository, with the real mirror binary and real Kafka.
#
#   scripts/tests/journeys.sh BUILD/mirror       (ctest: examples.journeys; needs scripts/kafka-local up)
#
#   bootstrap  a spec on main (flow A -> B, target reached over SASL with the password from a secret);
#              plan + apply by hand, as an operator does once
#   PR #1      a commit adds a topic to the spec: the plan job posts ONE comment and saves the plan,
#              which shows exactly that change; a second plan run updates the same comment; merge;
#              the apply job finds PR #1's plan, fetches its head commit, applies it; the clusters converge
#   PR #2      planned, then the source changes before the merge: the apply job refuses the stale plan
#              (exit 4, nothing changed, says to re-plan); re-running the plan job and then the apply
#              job converges
#   drift      someone changes a mirrored topic's config on B by hand: the drift job's plan exits 2 and
#              its JSON names the resource; ONE issue labelled mirror-drift is opened, and updated (not
#              duplicated) by the next run; the apply job run by hand with the drift run's id repairs it;
#              the next drift run closes the issue
#   error      a drift run on a commit whose spec is invalid fails loudly and opens no issue
#   PR #3      a pull request removes the base branch's policy and adds a topic that it would block: the
#              plan job judges with the base commit's policies (--policies-ref), exits 3, and the comment
#              says the policy was removed by the PR and is still enforced
#   secrets    the password never appears in a plan, comment, issue, artifact or log
#
# Topic names carry a random suffix, so runs never collide; the topics are deleted at the end (also on
# failure). Last line: "journeys: N passed, M failed"; exit 0 only if M = 0.
set -euo pipefail

HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
MIRROR=$(readlink -f -- "${1:?usage: journeys.sh PATH/TO/mirror}")
EXAMPLES="$REPO/examples/github"

PASS=0
FAIL=0
pass() { PASS=$((PASS + 1)); echo "ok   - $1"; }
fail() {
  FAIL=$((FAIL + 1))
  echo "FAIL - $1"
  shift
  local l
  for l in "$@"; do echo "       $l"; done
}
die() {
  echo "journeys: error: $*" >&2
  echo "journeys: $PASS passed, $((FAIL + 1)) failed"
  exit 1
}
step() { printf '\n== %s\n' "$*"; }

# ----------------------------------------------------------------------------------------- preflight
[[ -x $MIRROR ]] || die "no mirror binary at $MIRROR (build it: cmake --build build --target mirror)"
"$REPO/scripts/kafka-local" status >/dev/null 2>&1 ||
  die "the local clusters do not answer: start them with scripts/kafka-local up (ctest's fixture 'kafka' does)"
eval "$("$REPO/scripts/kafka-local" env)"
[[ -f $MM2_LIB/kafka-tools-$KAFKA_VERSION.jar ]] ||
  die "Kafka's Java tools are missing ($MM2_LIB): run scripts/kafka-local fetch --mm2 (scripts/install-deps --mm2 does)"
command -v jq >/dev/null || die "jq is missing (the workflows use it): apt-get install jq, or scripts/install-deps"
python3 -c 'import yaml' 2>/dev/null || die "python3-yaml is missing: apt-get install python3-yaml, or scripts/install-deps"
command -v git >/dev/null || die "git is missing"

ID="jrn$(date +%s)$((RANDOM % 1000))"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mirror-journeys.XXXXXX")
ORIGIN="$TMP/origin.git"   # the "GitHub" repository
DEV="$TMP/dev"             # a developer's clone
SECRET="admin-secret"      # cluster B's SCRAM password (scripts/kafka-local): a repository secret here

java_tool() {
  local cp=$1
  shift
  "${JAVA:-java}" -Xmx256m -Dlog4j2.configurationFile="$KAFKA_TOOLS_LOG4J_CONFIG" -cp "$cp/*" "$@"
}
topics() { java_tool "$MM2_LIB" org.apache.kafka.tools.TopicCommand "$@"; }
set_config() {  # BOOTSTRAP TOPIC KEY=VALUE
  java_tool "$KAFKA_LIB" kafka.admin.ConfigCommand --bootstrap-server "$1" --alter --entity-type topics \
    --entity-name "$2" --add-config "$3" >/dev/null
}

cleanup() {
  local rc=$?
  echo
  echo "cleanup: deleting topics $ID.* on A and A.$ID.* on B"
  topics --bootstrap-server "$A_BOOTSTRAP" --delete --if-exists --topic "$ID\\..*" >/dev/null 2>&1 ||
    echo "cleanup: warning: could not delete $ID.* on A"
  topics --bootstrap-server "$B_BOOTSTRAP" --delete --if-exists --topic "A\\.$ID\\..*" >/dev/null 2>&1 ||
    echo "cleanup: warning: could not delete A.$ID.* on B"
  if [[ -n ${MIRROR_KEEP_JOURNEYS:-} ]]; then
    echo "cleanup: MIRROR_KEEP_JOURNEYS set, keeping $TMP"
  else
    rm -rf -- "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT

# PATH for the workflows: the mirror under test, and the fake GitHub CLI.
mkdir -p "$TMP/bin" "$TMP/github" "$TMP/ctx" "$TMP/logs" "$TMP/runner" "$TMP/ws"
ln -s "$MIRROR" "$TMP/bin/mirror"
ln -s "$HERE/fake-gh" "$TMP/bin/gh"
export PATH="$TMP/bin:$PATH"
export FAKE_GH_DIR="$TMP/github"
export GIT_AUTHOR_NAME=journeys GIT_AUTHOR_EMAIL=journeys@example.com
export GIT_COMMITTER_NAME=journeys GIT_COMMITTER_EMAIL=journeys@example.com
export MIRROR_TARGET_PASSWORD=$SECRET  # for the operator's own mirror commands below
export MIRROR_ALLOW_ENV=MIRROR_TARGET_PASSWORD  # the operator setting that lets the spec read it
GH_REPOSITORY=acme/kafka-specs

# ------------------------------------------------------------------------------------------- helpers
OUT=""
RC=0
mirror_cli() {  # mirror ARGS...: output in OUT, exit code in RC
  RC=0
  OUT=$("$MIRROR" "$@" 2>&1) || RC=$?
}

# The policy on main: no source topic with more than 2 partitions (PR #3 removes it). "-" drops it.
POLICY="max-partitions"
write_spec() {  # DIR TOPIC...: the spec, mirroring the given source topics (with POLICY unless it is -)
  local dir=$1 t list=""
  shift
  for t in "$@"; do list+="${list:+, }\"$ID\\\\.$t\""; done
  mkdir -p "$dir/mirror"
  cat >"$dir/mirror/mirror.yaml" <<EOF
# Journey test spec ($ID). B is reached over SASL; its password comes from the environment (a secret).
version: 1
clusters:
  A: {bootstrap: "$A_BOOTSTRAP"}
  B:
    bootstrap: "$B_SASL_BOOTSTRAP"
    client:
      security.protocol: SASL_PLAINTEXT
      sasl.mechanism: SCRAM-SHA-512
      sasl.username: admin
      sasl.password: "\${env:MIRROR_TARGET_PASSWORD}"
flows:
  - name: $ID
    source: A
    target: B
    replication_factor: 1
    topics: {include: [$list]}
EOF
  if [[ $POLICY != - ]]; then
    printf 'policies:\n  - {rule: %s, level: hard-mandatory, max: 2}\n' "$POLICY" >>"$dir/mirror/mirror.yaml"
  fi
}

# The plan's actions as sorted "kind cluster resource" lines.
actions_of() {
  python3 -c 'import json,sys; [print(a["kind"], a["cluster"], a["resource"]) for a in json.load(open(sys.argv[1]))["actions"]]' "$1" | sort
}
# expect_actions NAME FILE LINE...: the plan in FILE has exactly these actions.
expect_actions() {
  local name=$1 file=$2 want got
  shift 2
  if [[ ! -s $file ]]; then
    fail "$name" "no plan file $file"
    return
  fi
  want=$(printf '%s\n' "$@" | sort)
  got=$(actions_of "$file")
  if [[ $got == "$want" ]]; then
    pass "$name"
  else
    fail "$name" "expected exactly these actions:" "${want//$'\n'/ | }" "but the plan has:" "${got//$'\n'/ | }"
  fi
}
expect_rc() {  # NAME WANT
  if [[ $RC -eq $2 ]]; then pass "$1"; else fail "$1" "exit code $RC, expected $2; output:" "$(tail -n 15 <<<"$OUT")"; fi
}

JOB_RC=0
LOGS=""
# run_job WORKFLOW JOB RUN_ID WORKSPACE CONTEXT_JSON: runs the job's steps (mirror is on PATH already, so
# the "Get mirror" step is replaced); LOGS is the folder with each step's output.
run_job() {
  local wf=$1 job=$2 run=$3 ws=$4 ctx=$5 attempt
  attempt=$(find "$TMP/logs" -maxdepth 1 -name "run-$run-*" | wc -l)
  LOGS="$TMP/logs/run-$run-$((attempt + 1))"
  mkdir -p "$LOGS"
  printf '%s\n' "$ctx" >"$TMP/ctx/run-$run-$((attempt + 1)).json"
  echo "-- $wf job $job, run $run (attempt $((attempt + 1)))"
  JOB_RC=0
  python3 "$HERE/workflow-run.py" "$EXAMPLES/$wf" --job "$job" --context "$TMP/ctx/run-$run-$((attempt + 1)).json" \
    --workspace "$ws" --runner-temp "$TMP/runner/run-$run-$((attempt + 1))" --logs "$LOGS" --skip get-mirror |
    sed 's/^/   /' || JOB_RC=$?
}
logs_have() { grep -rqF -- "$1" "$LOGS"; }
ctx_common() {  # RUN_ID SHA EVENT REF_NAME
  printf '"repository": "%s", "run_id": %s, "sha": "%s", "event_name": "%s", "ref_name": "%s", "ref": "refs/heads/%s"' \
    "$GH_REPOSITORY" "$1" "$2" "$3" "$4" "$4"
}
secrets_json() {
  printf '"secrets": {"MIRROR_TARGET_PASSWORD": "%s", "MIRROR_SOURCE_PASSWORD": ""}, "vars": {"MIRROR_ALLOW_BOOTSTRAP": "127.0.0.1:*"}' "$SECRET"
}
plan_job() {  # RUN_ID PR HEAD_SHA: the base is main as it is now
  local ws="$TMP/ws/plan-$1-$RANDOM" base
  base=$(git -C "$DEV" rev-parse main)
  git clone -q "file://$ORIGIN" "$ws"
  git -C "$ws" fetch -q origin "refs/pull/$2/head"
  git -C "$ws" checkout -q --detach "$3"  # actions/checkout with ref: the PR head, fetch-depth 0
  run_job mirror-plan.yml plan "$1" "$ws" \
    "{\"github\": {$(ctx_common "$1" "$3" pull_request_target "$2/merge"), \"event\": {\"pull_request\": {\"number\": $2, \"head\": {\"sha\": \"$3\"}, \"base\": {\"sha\": \"$base\"}}}}, $(secrets_json)}"
}
apply_job() {  # RUN_ID SHA_ON_MAIN [DISPATCH_RUN_ID]
  local ws="$TMP/ws/apply-$1-$RANDOM" event=push inputs="{}"
  if [[ -n ${3:-} ]]; then
    event=workflow_dispatch
    inputs="{\"run_id\": \"$3\"}"
  fi
  git clone -q --depth 1 --branch main "file://$ORIGIN" "$ws"  # actions/checkout: main, depth 1
  run_job mirror-apply.yml apply "$1" "$ws" \
    "{\"github\": {$(ctx_common "$1" "$2" "$event" main)}, \"inputs\": $inputs, $(secrets_json)}"
}
drift_job() {  # RUN_ID SHA
  local ws="$TMP/ws/drift-$1-$RANDOM"
  git clone -q "file://$ORIGIN" "$ws"
  git -C "$ws" checkout -q --detach "$2"
  run_job mirror-drift.yml drift "$1" "$ws" "{\"github\": {$(ctx_common "$1" "$2" schedule main)}, $(secrets_json)}"
}
pr_comments() {  # PR: the number of comments on it in NCOMMENTS, the last one's body in COMMENT
  COMMENT=$(jq -r --argjson n "$1" '[.comments[] | select(.issue == $n)] | last | .body // ""' "$FAKE_GH_DIR/state.json")
  NCOMMENTS=$(jq --argjson n "$1" '[.comments[] | select(.issue == $n)] | length' "$FAKE_GH_DIR/state.json")
}
open_pr() {  # NUMBER BRANCH MESSAGE TOPIC...: a commit on a branch, pushed as refs/pull/NUMBER/head; HEAD_SHA
  local n=$1 branch=$2 msg=$3
  shift 3
  git -C "$DEV" checkout -q -b "$branch" main
  write_spec "$DEV" "$@"
  git -C "$DEV" commit -qam "$msg"
  HEAD_SHA=$(git -C "$DEV" rev-parse HEAD)
  git -C "$DEV" push -q origin "$branch" "HEAD:refs/pull/$n/head"
}
merge_pr() {  # NUMBER BRANCH: a merge commit on main, pushed; MERGE_SHA; the fake GitHub knows the PR
  git -C "$DEV" checkout -q main
  git -C "$DEV" merge -q --no-ff "$2" -m "Merge pull request #$1 from $2"
  git -C "$DEV" push -q origin main
  MERGE_SHA=$(git -C "$DEV" rev-parse HEAD)
  gh __fake merged-pr "$MERGE_SHA" "$1" "$(git -C "$DEV" rev-parse "$2")" main
}
converged() {  # NAME SHA: a fresh plan of SHA's spec has nothing to do
  mirror_cli plan --git "$ORIGIN" --ref "$2" --path mirror --detailed-exitcode
  expect_rc "$1" 0
}

# --------------------------------------------------------------------------------------------- setup
step "setup: source topics $ID.{orders,payments,refunds} on A, a spec repository on main"
topics --bootstrap-server "$A_BOOTSTRAP" --create --topic "$ID.orders" --partitions 2 --replication-factor 1 \
  --config retention.ms=3600000 >/dev/null || die "could not create $ID.orders on A"
topics --bootstrap-server "$A_BOOTSTRAP" --create --topic "$ID.big" --partitions 4 --replication-factor 1 >/dev/null ||
  die "could not create $ID.big on A"
for t in payments refunds; do
  topics --bootstrap-server "$A_BOOTSTRAP" --create --topic "$ID.$t" --partitions 1 --replication-factor 1 >/dev/null ||
    die "could not create $ID.$t on A"
done
git init -q --bare -b main "$ORIGIN"
git clone -q "$ORIGIN" "$DEV" 2>/dev/null
git -C "$DEV" checkout -q -b main
write_spec "$DEV" orders
git -C "$DEV" add mirror
git -C "$DEV" commit -qm "mirror: replicate $ID.orders to B"
git -C "$DEV" push -q origin main

step "bootstrap: the first plan and apply, by an operator"
mirror_cli plan --git "$ORIGIN" --ref main --path mirror --out "$TMP/bootstrap.json" --detailed-exitcode
expect_rc "bootstrap: plan exits 2 (changes)" 2
mirror_cli apply "$TMP/bootstrap.json" --git "$ORIGIN" --ref main --path mirror --detach
expect_rc "bootstrap: apply of the saved plan exits 0" 0
converged "bootstrap: a fresh plan exits 0 (converged)" main

# ----------------------------------------------------------------------------------------------- PR 1
step "PR #1: a commit adds $ID.payments to the spec"
open_pr 1 add-payments "mirror: also replicate $ID.payments" orders payments
PR1_HEAD=$HEAD_SHA
plan_job 101 1 "$PR1_HEAD"
[[ $JOB_RC -eq 0 ]] && pass "PR #1: the plan job succeeds" || fail "PR #1: the plan job succeeds" "job exit $JOB_RC (logs: $LOGS)"
logs_have "mirror plan exited with 2" && pass "PR #1: mirror plan exits 2 (changes)" ||
  fail "PR #1: mirror plan exits 2 (changes)" "$(cat "$LOGS"/*-plan.log)"
ART="$FAKE_GH_DIR/runs/101/artifacts/mirror-plan-$PR1_HEAD"
expect_actions "PR #1: the saved plan shows exactly the change: one topic, the flow's new revision" "$ART/plan.json" \
  "create_topic B A.$ID.payments" "update_flow B $ID"
[[ $(jq -r .spec.commit "$ART/plan.json" 2>/dev/null) == "$PR1_HEAD" ]] && pass "PR #1: the plan names the PR's head commit" ||
  fail "PR #1: the plan names the PR's head commit" "spec.commit: $(jq -r .spec.commit "$ART/plan.json" 2>&1)"
[[ -s $ART/plan.md && -s $ART/plan.txt ]] && pass "PR #1: the artifact holds plan.json, plan.md and plan.txt" ||
  fail "PR #1: the artifact holds plan.json, plan.md and plan.txt" "$(ls -l "$ART" 2>&1)"
pr_comments 1
[[ $NCOMMENTS -eq 1 ]] && pass "PR #1: one plan comment" || fail "PR #1: one plan comment" "found $NCOMMENTS"
missing=()
for want in "<!-- mirror-plan -->" "### mirror plan: 1 to add, 1 to change, 0 to destroy" "create_topic B:A.$ID.payments" \
  "update_flow B:$ID" "Commit \`${PR1_HEAD:0:12}\`" "Merging applies exactly this saved plan"; do
  [[ $COMMENT == *"$want"* ]] || missing+=("$want")
done
((${#missing[@]} == 0)) && pass "PR #1: the comment carries the marker and the markdown plan" ||
  fail "PR #1: the comment carries the marker and the markdown plan" "missing: ${missing[*]}" "comment:" "$COMMENT"
# What the comment shows is mirror's own markdown rendering of the saved plan.
"$MIRROR" show "$ART/plan.json" --format markdown >"$TMP/pr1.md"
[[ $COMMENT == *"$(cat "$TMP/pr1.md")"* ]] && pass "PR #1: the comment embeds mirror show --format markdown of the saved plan" ||
  fail "PR #1: the comment embeds mirror show --format markdown of the saved plan" "diff:" "$(diff <(echo "$COMMENT") "$TMP/pr1.md" | head -n 20)"

plan_job 102 1 "$PR1_HEAD"  # another plan run for the same PR (a re-run, or a new push)
pr_comments 1
[[ $JOB_RC -eq 0 && $NCOMMENTS -eq 1 ]] && pass "PR #1: a second plan run updates the same comment (still one)" ||
  fail "PR #1: a second plan run updates the same comment (still one)" "job exit $JOB_RC, $NCOMMENTS comments"
grep -q '"--method", "PATCH"' "$FAKE_GH_DIR/calls.log" && pass "PR #1: ... by PATCHing it" ||
  fail "PR #1: ... by PATCHing it" "$(cat "$FAKE_GH_DIR/calls.log")"

merge_pr 1 add-payments
apply_job 103 "$MERGE_SHA"
[[ $JOB_RC -eq 0 ]] && pass "PR #1 merged: the apply job succeeds" || fail "PR #1 merged: the apply job succeeds" "job exit $JOB_RC (logs: $LOGS)"
logs_have "Applied the plan reviewed on PR #1." && pass "PR #1 merged: it applied the plan reviewed on PR #1 (latest successful plan run)" ||
  fail "PR #1 merged: it applied the plan reviewed on PR #1" "$(cat "$LOGS"/*find.log "$LOGS"/*apply.log 2>/dev/null | tail -n 20)"
logs_have "from run 102" && pass "PR #1 merged: ... from the latest plan run (102)" || fail "PR #1 merged: ... from the latest plan run (102)"
converged "PR #1 merged: a fresh plan of main exits 0 (converged)" "$MERGE_SHA"

# ----------------------------------------------------------------------------------------------- PR 2
step "PR #2: adds $ID.refunds; the source changes after the plan: the saved plan is stale"
open_pr 2 add-refunds "mirror: also replicate $ID.refunds" orders payments refunds
PR2_HEAD=$HEAD_SHA
plan_job 201 2 "$PR2_HEAD"
expect_actions "PR #2: the plan shows exactly the new topic and the flow's revision" \
  "$FAKE_GH_DIR/runs/201/artifacts/mirror-plan-$PR2_HEAD/plan.json" "create_topic B A.$ID.refunds" "update_flow B $ID"
# Upstream, someone changes the retention of a mirrored topic before PR #2 is merged.
set_config "$A_BOOTSTRAP" "$ID.orders" retention.ms=7200000 || die "could not alter $ID.orders on A"
sleep 1
merge_pr 2 add-refunds
PR2_MERGE=$MERGE_SHA
apply_job 202 "$PR2_MERGE"
[[ $JOB_RC -ne 0 ]] && pass "PR #2 merged: the apply job fails" || fail "PR #2 merged: the apply job fails" "it succeeded"
logs_have "the plan is stale" && logs_have "::error title=The saved plan is stale: nothing was changed::" &&
  logs_have "re-run run 201, the plan (or drift) run that made it" && pass "PR #2 merged: it says the plan is stale, nothing changed, re-run plan run 201" ||
  fail "PR #2 merged: it says the plan is stale, nothing changed, re-run plan run 201" "$(cat "$LOGS"/*apply.log 2>/dev/null | tail -n 20)"
mirror_cli plan --git "$ORIGIN" --ref "$PR2_MERGE" --path mirror --format json --out "$TMP/after-stale.json"
expect_actions "PR #2 merged: the stale apply changed nothing (everything is still to do)" "$TMP/after-stale.json" \
  "create_topic B A.$ID.refunds" "alter_topic_configs B A.$ID.orders" "update_flow B $ID"

plan_job 201 2 "$PR2_HEAD"  # the remedy: re-run the plan job (same run, next attempt)
expect_actions "PR #2 re-planned: the new plan has the topic, the upstream config change and the revision" \
  "$FAKE_GH_DIR/runs/201/artifacts/mirror-plan-$PR2_HEAD/plan.json" \
  "create_topic B A.$ID.refunds" "alter_topic_configs B A.$ID.orders" "update_flow B $ID"
pr_comments 2
[[ $NCOMMENTS -eq 1 && $COMMENT == *"alter_topic_configs B:A.$ID.orders"* ]] && pass "PR #2 re-planned: its one comment shows the new plan" ||
  fail "PR #2 re-planned: its one comment shows the new plan" "$NCOMMENTS comments; last:" "$COMMENT"
apply_job 202 "$PR2_MERGE"  # then re-run the apply job
[[ $JOB_RC -eq 0 ]] && pass "PR #2: the re-run apply job succeeds" || fail "PR #2: the re-run apply job succeeds" "job exit $JOB_RC (logs: $LOGS)"
converged "PR #2: a fresh plan of main exits 0 (converged)" "$PR2_MERGE"

# --------------------------------------------------------------------------------------------- drift
step "drift: someone changes retention.ms of A.$ID.orders on B by hand"
set_config "$B_BOOTSTRAP" "A.$ID.orders" retention.ms=1000 || die "could not alter A.$ID.orders on B"
sleep 1
drift_job 301 "$PR2_MERGE"
DRIFT="$FAKE_GH_DIR/runs/301/artifacts/mirror-drift/drift.json"
[[ $JOB_RC -eq 0 ]] && pass "drift: the drift job succeeds (the issue is the alert)" || fail "drift: the drift job succeeds" "job exit $JOB_RC (logs: $LOGS)"
logs_have "mirror plan exited with 2" && pass "drift: mirror plan --detailed-exitcode exits 2" ||
  fail "drift: mirror plan --detailed-exitcode exits 2" "$(cat "$LOGS"/*drift.log 2>/dev/null)"
expect_actions "drift: its JSON names exactly the changed resource" "$DRIFT" "alter_topic_configs B A.$ID.orders"
jq -e --arg r "A.$ID.orders" '.actions[] | select(.resource == $r) | .before["retention.ms"] == "1000" and .after.set["retention.ms"] == "7200000"' \
  "$DRIFT" >/dev/null && pass "drift: ... with the hand-made value (1000) and the spec's (7200000)" ||
  fail "drift: ... with the hand-made value and the spec's" "$(jq -c .actions "$DRIFT" 2>&1)"
issues() { jq -r '[.issues[] | select(.state == "open" and (.labels | index("mirror-drift")))] | length' "$FAKE_GH_DIR/state.json"; }
body=$(jq -r '[.issues[] | select(.state == "open")] | first | .body // ""' "$FAKE_GH_DIR/state.json")
[[ $(issues) -eq 1 && $body == *"<!-- mirror-drift -->"* && $body == *"alter_topic_configs B:A.$ID.orders"* && $body == *"run id \`301\`"* ]] &&
  pass "drift: one open issue labelled mirror-drift, with the plan and how to repair it" ||
  fail "drift: one open issue labelled mirror-drift, with the plan and how to repair it" "$(issues) open; body:" "$body"
drift_job 302 "$PR2_MERGE"
comments=$(jq -r '[.issues[] | select(.state == "open")] | first | .comments | length' "$FAKE_GH_DIR/state.json")
[[ $JOB_RC -eq 0 && $(issues) -eq 1 && $comments -eq 0 ]] && pass "drift: the next run updates the same issue (no duplicate, no comment: same drift)" ||
  fail "drift: the next run updates the same issue" "job exit $JOB_RC, $(issues) open issues, $comments comments"
apply_job 303 "$PR2_MERGE" 301  # repair: the apply workflow run by hand with the drift run's id
[[ $JOB_RC -eq 0 ]] && logs_have "Applied the plan saved by run 301." && pass "drift: the apply job run by hand with run id 301 repairs it" ||
  fail "drift: the apply job run by hand with run id 301 repairs it" "job exit $JOB_RC (logs: $LOGS)"
drift_job 304 "$PR2_MERGE"
closed=$(jq -r '[.issues[] | select(.state == "closed")] | length' "$FAKE_GH_DIR/state.json")
[[ $JOB_RC -eq 0 && $(issues) -eq 0 && $closed -eq 1 ]] && logs_have "mirror plan exited with 0" &&
  pass "drift: the next drift run exits 0 and closes the issue" ||
  fail "drift: the next drift run exits 0 and closes the issue" "job exit $JOB_RC, $(issues) open, $closed closed"

# --------------------------------------------------------------------------------------------- error
step "error: a drift run on a commit whose spec is invalid"
git -C "$DEV" checkout -q -b broken main
sed -i 's/^version: 1$/version: 2/' "$DEV/mirror/mirror.yaml"
git -C "$DEV" commit -qam "a broken spec"
git -C "$DEV" push -q origin broken
drift_job 305 "$(git -C "$DEV" rev-parse HEAD)"
[[ $JOB_RC -ne 0 ]] && logs_have "::error title=Drift check failed::" && pass "error: the drift job fails loudly" ||
  fail "error: the drift job fails loudly" "job exit $JOB_RC; $(tail -n 5 "$LOGS"/*.log)"
[[ $(jq '.issues | length' "$FAKE_GH_DIR/state.json") -eq 1 && $(issues) -eq 0 ]] && pass "error: ... and opens no issue" ||
  fail "error: ... and opens no issue" "$(jq -c '.issues' "$FAKE_GH_DIR/state.json")"

# ----------------------------------------------------------------------------------------------- PR 3
step "PR #3: removes main's max-partitions policy and adds $ID.big (4 partitions), which it would block"
POLICY=-
open_pr 3 drop-policy "mirror: replicate $ID.big (and drop the partition limit)" orders payments refunds big
POLICY="max-partitions"
plan_job 301 3 "$HEAD_SHA"
[[ $JOB_RC -ne 0 ]] && logs_have "mirror plan exited with 3" && pass "PR #3: the plan job fails with exit 3 (the base's policy still holds)" ||
  fail "PR #3: the plan job fails with exit 3 (the base's policy still holds)" "job exit $JOB_RC" "$(cat "$LOGS"/*-plan.log 2>/dev/null | tail -n 20)"
pr_comments 3
[[ $COMMENT == *"policy max-partitions is removed by this spec"* && $COMMENT == *"Blocked by a policy"* ]] &&
  pass "PR #3: the comment says the PR removed the policy, and that it still blocks" ||
  fail "PR #3: the comment says the PR removed the policy, and that it still blocks" "comment:" "$COMMENT"
git -C "$DEV" checkout -q main

# ------------------------------------------------------------------------------------------- secrets
step "secrets: the password of B never appears"
leaks=$(grep -rlF -- "$SECRET" "$TMP/logs" "$TMP/runner" "$FAKE_GH_DIR" "$TMP/bootstrap.json" 2>/dev/null || true)
[[ -z $leaks ]] && pass "secrets: not in any plan, comment, issue, artifact or step log" || fail "secrets: found in" "$leaks"

echo
echo "journeys: $PASS passed, $FAIL failed"
((FAIL == 0))
