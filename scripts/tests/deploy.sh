#!/usr/bin/env bash
# Checks deploy/ (deploy/README.md): what users deploy mirror with.
#
#   deploy.sh container MIRROR       hadolint on deploy/container/Dockerfile (and that it finds a known fault);
#                                    the image installs the package of every library MIRROR links
#   deploy.sh helm MIRROR            helm lint; helm template with each deploy/helm/mirror/ci/*.yaml and
#                                    deploy/kubernetes/values.yaml; kubeconform -strict on the output against
#                                    Kubernetes' own schemas; the chart's promises (replicas, probes,
#                                    MIRROR_ALLOW_ENV, securityContext, drift check exit codes); the spec
#                                    options it passes parsed by MIRROR's own CLI; deploy/kubernetes/ up to date
#   deploy.sh systemd MIRROR         systemd-analyze verify and security on deploy/systemd/mirror.service
#   deploy.sh dashboard              the Grafana dashboard is valid JSON and names only documented metrics
#   deploy.sh scrape MIRROR BENCH_IO BENCH_LOAD
#                                    against the local clusters (scripts/kafka-local up): runs MIRROR on a
#                                    throwaway flow, scrapes /metrics once records were copied, and checks
#                                    that every metric the dashboard queries is served; the Dockerfile's
#                                    HEALTHCHECK command against /healthz; a clean SIGTERM stop; deletes
#                                    its topics and group
#
# The tools come from scripts/install-deploy-tools (.cache/bin; scripts/test runs it).
# Prints "ok: ..." per check, "FAIL: ..." per failure; exit 1 if anything failed.
set -euo pipefail

repo=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${MIRROR_CACHE:-$repo/.cache}
bin=$cache/bin
chart=$repo/deploy/helm/mirror
k8s_version=${K8S_SCHEMA_VERSION:-1.34.4}
failures=0
ok() { echo "ok: $*"; }
fail() {
  echo "FAIL: $1"
  shift
  local line
  for line in "$@"; do echo "  $line"; done
  failures=$((failures + 1))
}
need() {
  local t
  for t in "$@"; do
    [[ -x $bin/$t ]] || { echo "deploy.sh: $bin/$t is missing; fix: scripts/install-deploy-tools" >&2; exit 1; }
  done
}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mirror-deploy.XXXXXX")
cleanup_hooks=()
cleanup() {
  local h
  for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
  rm -rf -- "$TMP"
}
trap cleanup EXIT

# The metric names in the dashboard's queries (without the histogram suffixes' distinction).
dashboard_metrics() {
  python3 - "$repo/deploy/grafana/mirror-dashboard.json" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
names = set()
def walk(panels):
    for p in panels:
        walk(p.get("panels", []))
        for t in p.get("targets", []):
            names.update(re.findall(r"\bmirror_[a-z0-9_]+\b", t["expr"]))
walk(d["panels"])
for v in d.get("templating", {}).get("list", []):
    q = v.get("query")
    q = q.get("query", "") if isinstance(q, dict) else (q or "")
    names.update(re.findall(r"\bmirror_[a-z0-9_]+\b", q))
print("\n".join(sorted(names)))
PY
}

check_container() {
  local mirror=$1
  need hadolint
  local out
  if out=$("$bin/hadolint" --failure-threshold info "$repo/deploy/container/Dockerfile" 2>&1); then
    ok "hadolint $("$bin/hadolint" --version | grep -o '[0-9][0-9.]*' | head -n1): deploy/container/Dockerfile is clean"
  else
    fail "hadolint finds problems in deploy/container/Dockerfile" "$out"
  fi
  printf 'FROM debian\nRUN apt-get update && apt-get install -y curl\nCMD curl localhost\n' >"$TMP/Bad.Dockerfile"
  if "$bin/hadolint" "$TMP/Bad.Dockerfile" >/dev/null 2>&1; then
    fail "hadolint flags an unpinned base image and apt without --no-install-recommends" "it passed $TMP/Bad.Dockerfile"
  else
    ok "hadolint flags a known-bad Dockerfile (the lint really runs)"
  fi
  local hc
  hc=$(grep -c '^HEALTHCHECK' "$repo/deploy/container/Dockerfile" || true)
  [[ $hc == 1 ]] && grep -q '/healthz' "$repo/deploy/container/Dockerfile" && grep -q '^USER 10001' "$repo/deploy/container/Dockerfile" &&
    grep -q '^ENTRYPOINT \["/usr/bin/mirror", "run"' "$repo/deploy/container/Dockerfile" &&
    ok "the Dockerfile runs mirror run as uid 10001 with a HEALTHCHECK on /healthz" ||
    fail "the Dockerfile runs mirror run as uid 10001 with a HEALTHCHECK on /healthz"
  # every library the binary links directly comes from a package the image installs (or that
  # debian:12-slim has: the C and C++ runtimes)
  local lib path pkg missing="" listed
  listed=$(sed -n '/apt-get install/,/rm -rf/p' "$repo/deploy/container/Dockerfile" | grep -oE '^ +[a-z0-9][a-z0-9.+-]+ \\$' | awk '{print $1}')
  for lib in $(readelf -d "$mirror" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    [[ $lib == ld-linux* ]] && continue  # the dynamic loader, libc6's
    # a sanitizer build (scripts/test --sanitize) links the sanitizer runtimes; release images never do
    [[ $lib == libasan.so* || $lib == libubsan.so* ]] && continue
    path=$(ldd "$mirror" | awk -v l="$lib" '$1 == l {print $3}')
    [[ -n $path ]] || { missing+=" $lib(not found by ldd)"; continue; }
    # dpkg knows the file by the name its package installed (merged /usr: /lib or /usr/lib, the link or its target)
    pkg=$( { dpkg -S "$path" || dpkg -S "$(realpath "$path")" || dpkg -S "/usr$path" || dpkg -S "$(dirname "$path")/$(basename "$(realpath "$path")")"; } 2>/dev/null | head -n1 | cut -d: -f1 || true)
    case $pkg in libc6 | libstdc++6 | libgcc-s1) continue ;; esac
    grep -qx "$pkg" <<<"$listed" || missing+=" $lib($pkg)"
  done
  [[ -z $missing ]] && ok "the image installs the package of every library $(basename "$mirror") links ($(wc -l <<<"$listed") packages)" ||
    fail "the Dockerfile installs the packages of these libraries:$missing"

  # The image's and the chart's runtime assumptions for `--git` specs: a user with no home directory,
  # MIRROR_GIT_CACHE below a world-writable setgid volume (an emptyDir with fsGroup). Needs root to
  # switch to an unprivileged uid.
  if [[ $(id -u) != 0 ]] || ! command -v setpriv >/dev/null; then
    echo "note: not root (or no setpriv): the --git cache check as uid 10001 is left out"
    return
  fi
  mkdir -p "$TMP/volume" "$TMP/origin"
  chmod 2777 "$TMP/volume"
  chmod 755 "$TMP"
  cp "$repo/examples/specs/local-demo.yaml" "$TMP/origin/mirror.yaml"
  git -C "$TMP/origin" init -q && git -C "$TMP/origin" add mirror.yaml &&
    git -C "$TMP/origin" -c user.email=deploy@test -c user.name=deploy commit -qm spec
  chown -R 10001:10001 "$TMP/origin"  # git refuses repositories of other users
  cp "$mirror" "$TMP/mirror" && chmod 755 "$TMP/mirror"
  # A sanitizer build keeps its options (the LSan suppressions of libgit2's own leak: scripts/lsan.supp).
  local -a keep=()
  local v
  for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do [[ -n ${!v:-} ]] && keep+=("$v=${!v}"); done
  if out=$(cd / && setpriv --reuid 10001 --regid 10001 --clear-groups env -i PATH=/usr/bin:/bin HOME=/nonexistent \
    "${keep[@]}" MIRROR_GIT_CACHE="$TMP/volume/git" "$TMP/mirror" validate --git "file://$TMP/origin" --ref HEAD --path mirror.yaml 2>&1); then
    ok "as uid 10001 without a home, a --git spec is cached in a world-writable volume (the chart's emptyDir)"
  else
    fail "as uid 10001 without a home, a --git spec is cached in a world-writable volume" "$out"
  fi
}

kubeconform_check() {  # NAME FILE
  local out
  if out=$("$bin/kubeconform" -strict -summary -kubernetes-version "$k8s_version" -skip ServiceMonitor \
    -schema-location "$cache/k8s-schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    "$2" 2>&1); then
    ok "kubeconform -strict (Kubernetes $k8s_version schemas): $1: ${out##*Summary: }"
  else
    fail "kubeconform -strict: $1" "$out"
  fi
}

check_helm() {
  local mirror=$1
  need helm kubeconform
  [[ -d $cache/k8s-schemas/v$k8s_version-standalone-strict ]] ||
    { echo "deploy.sh: no schemas in $cache/k8s-schemas; fix: scripts/install-deploy-tools" >&2; exit 1; }
  local out
  if out=$("$bin/helm" lint --strict "$chart" -f "$chart/ci/inline-values.yaml" 2>&1); then
    ok "helm lint --strict ($("$bin/helm" version --template '{{ .Version }}'))"
  else
    fail "helm lint --strict" "$out"
  fi
  local sets=("$chart"/ci/*.yaml "$repo/deploy/kubernetes/values.yaml") v name
  # what every rendering must promise (written once, run per value set below)
  cat >"$TMP/promises.py" <<'PY'
import subprocess, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
values = yaml.safe_load(open(sys.argv[2])) or {}
mirror = sys.argv[3]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)
problems = []
def check(cond, what):
    if not cond:
        problems.append(what)

dep = by_kind["Deployment"][0]
pod = dep["spec"]["template"]["spec"]
c = pod["containers"][0]
check(dep["spec"]["replicas"] >= 2, "replicas >= 2 (active + standby)")
check(c["args"][:3] == ["run", "--metrics-addr", "0.0.0.0:9464"], f"args start with run --metrics-addr 0.0.0.0:9464: {c['args'][:3]}")
for probe in ("readinessProbe", "livenessProbe"):
    g = c.get(probe, {}).get("httpGet", {})
    check(g.get("path") == "/healthz" and g.get("port") == "metrics", f"{probe} on metrics /healthz")
check(any(p["name"] == "metrics" and p["containerPort"] == 9464 for p in c["ports"]), "port metrics 9464")
sc, psc = c["securityContext"], pod["securityContext"]
check(psc.get("runAsNonRoot") is True and sc.get("readOnlyRootFilesystem") is True
      and sc.get("allowPrivilegeEscalation") is False and sc.get("capabilities", {}).get("drop") == ["ALL"],
      "non-root, read-only root fs, no privilege escalation, all capabilities dropped")
check("limits" in c["resources"] and "requests" in c["resources"], "resources requests and limits")
ann = dep["spec"]["template"]["metadata"].get("annotations", {})
if values.get("metrics", {}).get("podAnnotations", True):
    check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "9464", "prometheus.io annotations")
else:
    check("prometheus.io/scrape" not in ann, "no prometheus.io annotations when off")
check(("ServiceMonitor" in by_kind) == bool(values.get("metrics", {}).get("serviceMonitor", {}).get("enabled")), "ServiceMonitor iff enabled")

secret_names = [e["name"] for e in values.get("secretEnv", [])]
def env_of(container):
    env = {e["name"]: e for e in container.get("env", [])}
    from_secret = [n for n, e in env.items() if "secretKeyRef" in e.get("valueFrom", {})]
    allow = env.get("MIRROR_ALLOW_ENV", {}).get("value")
    check(from_secret == secret_names, f"env from Secrets {from_secret} == secretEnv {secret_names}")
    check(allow == (",".join(secret_names) or None), f"MIRROR_ALLOW_ENV {allow!r} lists exactly {secret_names}")
env_of(c)

spec = values.get("spec", {})
if spec.get("git", {}).get("url"):
    g = spec["git"]
    want = ["--git", g["url"], "--ref", g.get("ref", "main")] + (["--path", g["path"]] if g.get("path") else [])
else:
    want = ["--config", "/etc/mirror/mirror.yaml"]
    check(any(m["mountPath"] == "/etc/mirror" for m in c["volumeMounts"]), "the spec ConfigMap is mounted at /etc/mirror")
for f in spec.get("flows", []):
    want += ["--flow", f]
check(c["args"][3:3 + len(want)] == want, f"spec options {c['args'][3:3 + len(want)]} == {want}")
if spec.get("inline"):
    cm = [d for d in by_kind.get("ConfigMap", []) if "mirror.yaml" in d.get("data", {})]
    check(cm and yaml.safe_load(cm[0]["data"]["mirror.yaml"]) == yaml.safe_load(spec["inline"]), "the ConfigMap holds the inline spec")
def cli_accepts(args):
    """mirror's own CLI parses the options the chart passes: a bad command line exits 64; with the spec
    missing here (no file, no reachable git host) a good one gets as far as reading the spec and exits 1."""
    args = [a.replace("/etc/mirror/mirror.yaml", "/nonexistent/mirror.yaml").replace("0.0.0.0:9464", "127.0.0.1:0") for a in args]
    r = subprocess.run([mirror] + args, capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "spec" in r.stderr, f"mirror parses {args}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
cli_accepts(c["args"])

dc = values.get("driftCheck", {})
if dc.get("enabled"):
    cj = by_kind["CronJob"][0]
    job = cj["spec"]["jobTemplate"]["spec"]
    pc = job["template"]["spec"]["containers"][0]
    args = pc["args"]
    check(args[:2] == ["plan", "--detailed-exitcode"] and args[2:2 + len(want)] == want, f"drift check runs plan --detailed-exitcode with the spec: {args}")
    check(job["template"]["spec"]["restartPolicy"] == "Never", "drift check restartPolicy Never")
    rules = job.get("podFailurePolicy", {}).get("rules", [])
    fail_on_drift = dc.get("failOnDrift", True)
    check(bool(rules) == fail_on_drift and (not rules or rules[0]["onExitCodes"]["values"] == [2] and rules[0]["action"] == "FailJob"),
          "exit 2 fails the Job at once iff failOnDrift")
    if not fail_on_drift:
        check(pc["command"][0] == "/bin/bash", "without failOnDrift a wrapper maps exit 2 to 0")
    env_of(pc)
    cli_accepts(args)
else:
    check("CronJob" not in by_kind, "no CronJob unless driftCheck.enabled")
if problems:
    print("\n".join(problems))
    sys.exit(1)
PY
  for v in "${sets[@]}"; do
    name=${v#"$repo/"}
    if ! "$bin/helm" template mirror "$chart" -f "$v" >"$TMP/render.yaml" 2>"$TMP/render.err"; then
      fail "helm template with $name" "$(cat "$TMP/render.err")"
      continue
    fi
    kubeconform_check "$name" "$TMP/render.yaml"
    if out=$(python3 "$TMP/promises.py" "$TMP/render.yaml" "$v" "$mirror" 2>&1); then ok "the chart's promises hold with $name"; else fail "the chart's promises with $name" "$out"; fi
  done

  # the drift check's wrapper, as the container would run it: exit 2 -> 0, 1 -> 1, 0 -> 0
  "$bin/helm" template mirror "$chart" -f "$chart/ci/git-values.yaml" --show-only templates/cronjob.yaml >"$TMP/cj.yaml"
  local wrapper
  wrapper=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"][2])' "$TMP/cj.yaml")
  printf '#!/bin/sh\nexit "$FAKE_RC"\n' >"$TMP/fake-mirror"
  chmod +x "$TMP/fake-mirror"
  local rc want got=""
  for rc in 0:0 1:1 2:0 64:64; do
    want=${rc#*:}
    FAKE_RC=${rc%%:*} bash -c "${wrapper//\/usr\/bin\/mirror/$TMP/fake-mirror}" drift-check plan >/dev/null && r=0 || r=$?
    got+="${rc%%:*}->$r "
    [[ $r == "$want" ]] || { fail "the drift check's wrapper maps exit ${rc%%:*} to $want" "it gave $r"; }
  done
  ok "the drift check's wrapper (failOnDrift: false) maps plan's exits: $got"

  # misconfigurations fail at render time with a message
  if out=$("$bin/helm" template mirror "$chart" 2>&1); then
    fail "helm template without a spec fails" "it rendered"
  else
    [[ $out == *"set exactly one of spec.inline"* ]] && ok "helm template without a spec fails: set exactly one of ..." || fail "helm template without a spec says what to set" "$out"
  fi
  if out=$("$bin/helm" template mirror "$chart" --set spec.existingConfigMap=x --set spec.git.url=y 2>&1); then
    fail "helm template with two spec sources fails" "it rendered"
  else
    ok "helm template with two spec sources fails"
  fi
  if out=$("$bin/helm" template mirror "$chart" --set spec.existingConfigMap=x --set 'secretEnv[0].name=BAD-NAME' --set 'secretEnv[0].secretName=s' --set 'secretEnv[0].key=k' 2>&1); then
    fail "helm template rejects a secretEnv name that is no variable name" "it rendered"
  else
    ok "helm template rejects a secretEnv name that is no variable name"
  fi

  # deploy/kubernetes/mirror.yaml is the chart rendered with deploy/kubernetes/values.yaml
  "$bin/helm" template mirror "$chart" -f "$repo/deploy/kubernetes/values.yaml" >"$TMP/k8s.yaml"
  if diff -u <(tail -n +3 "$repo/deploy/kubernetes/mirror.yaml") "$TMP/k8s.yaml" >"$TMP/k8s.diff"; then
    ok "deploy/kubernetes/mirror.yaml is up to date with the chart"
  else
    fail "deploy/kubernetes/mirror.yaml is up to date with the chart (re-render: see deploy/README.md)" "$(head -n 30 "$TMP/k8s.diff")"
  fi
}

check_systemd() {
  local mirror=$1 out
  command -v systemd-analyze >/dev/null || { echo "deploy.sh: systemd-analyze is missing (apt-get install systemd)" >&2; exit 1; }
  # verify checks that ExecStart's binary exists: point it at the one under test
  mkdir -p "$TMP/systemd"
  sed "s#/usr/bin/mirror#$mirror#g" "$repo/deploy/systemd/mirror.service" >"$TMP/systemd/mirror.service"
  if out=$(cd "$TMP/systemd" && systemd-analyze verify --man=no ./mirror.service 2>&1) && [[ -z $out ]]; then
    ok "systemd-analyze verify ($(systemd-analyze --version | head -n1 | cut -d' ' -f1-2)): mirror.service, no warnings"
  else
    fail "systemd-analyze verify mirror.service" "$out"
  fi
  if out=$(cd "$TMP/systemd" && systemd-analyze security --offline=yes --threshold=20 --no-pager ./mirror.service 2>&1); then
    ok "systemd-analyze security: $(grep -o 'Overall exposure level.*' <<<"$out") (at most 2.0 allowed)"
  else
    fail "systemd-analyze security: exposure above 2.0" "$(tail -n 40 <<<"$out")"
  fi
  local key
  for key in 'DynamicUser=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'NoNewPrivileges=yes' 'PrivateTmp=yes' \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'CapabilityBoundingSet=' 'Restart=on-failure' \
    'EnvironmentFile=/etc/mirror/mirror.env' 'LoadCredential=' 'Environment=MIRROR_ALLOW_FILES=/run/credentials/mirror.service'; do
    grep -q "^$key" "$repo/deploy/systemd/mirror.service" || fail "mirror.service sets $key"
  done
  grep -q '^MIRROR_ALLOW_ENV=' "$repo/deploy/systemd/mirror.env.example" && ok "mirror.service's hardening keys and secret settings are there" ||
    fail "mirror.env.example sets MIRROR_ALLOW_ENV"
}

check_dashboard() {
  local names documented missing=""
  if ! names=$(dashboard_metrics); then fail "deploy/grafana/mirror-dashboard.json is valid JSON"; return; fi
  documented=$(grep -o '^| `mirror_[a-z0-9_]*`' "$repo/docs/metrics.md" | tr -d '|` ')
  local n base
  for n in $names; do
    base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$n")
    grep -qx "$base" <<<"$documented" || missing+=" $n"
  done
  [[ -z $missing ]] && ok "the dashboard queries $(wc -w <<<"$names") metric names, all documented in docs/metrics.md" ||
    fail "the dashboard queries metrics docs/metrics.md does not list:$missing"
  python3 - "$repo/deploy/grafana/mirror-dashboard.json" <<'PY' && ok "every dashboard panel has a datasource and PromQL targets" || fail "every dashboard panel has a datasource and targets"
import json, sys
d = json.load(open(sys.argv[1]))
bad = [p["title"] for p in d["panels"] if p["type"] != "row" and (not p.get("targets") or p.get("datasource", {}).get("uid") != "${datasource}")]
ids = [p["id"] for p in d["panels"]]
sys.exit(1 if bad or len(ids) != len(set(ids)) or not d.get("uid") else 0)
PY
}

check_scrape() {
  local mirror=$1 bench_io=$2 bench_load=$3 pid="" addr=""
  start_engine() {  # N ARGS...: mirror run in the background, sets pid and addr (from its log)
    local n=$1 i
    shift
    "$mirror" run -c "$TMP/spec.yaml" --metrics-addr 127.0.0.1:0 --group-sync-interval 1 "$@" 2>"$TMP/engine.$n.log" &
    pid=$! addr=""
    cleanup_hooks=("kill -KILL $pid 2>/dev/null" "${cleanup_hooks[@]}")
    for i in $(seq 1 300); do
      addr=$(sed -n 's#.*metrics on http://\([0-9.]*:[0-9]*\)/metrics.*#\1#p' "$TMP/engine.$n.log" | head -n1)
      [[ -n $addr ]] && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    fail "mirror run (engine $n) serves metrics" "$(tail -n 20 "$TMP/engine.$n.log")"
    return 1
  }
  scrape() { curl -fsS "http://$addr/metrics" >"$TMP/metrics.$1.txt" 2>/dev/null || true; }
  eval "$("$repo/scripts/kafka-local" env)"
  local id="dply$(date +%s)$((RANDOM % 1000))"
  local topic="$id.bench.t" group="benchacc-$id"  # bench_bare_io touches only such names
  cleanup_hooks+=("\"$bench_io\" delete \"$A_BOOTSTRAP\" \"$topic\" >/dev/null 2>&1; \"$bench_io\" delete \"$B_BOOTSTRAP\" \"A.$topic\" >/dev/null 2>&1; \"$bench_io\" delete-groups \"$A_BOOTSTRAP\" \"$group\" >/dev/null 2>&1; \"$bench_io\" delete-groups \"$B_BOOTSTRAP\" \"$group\" >/dev/null 2>&1")
  "$bench_io" create "$A_BOOTSTRAP" "$topic" 2 >/dev/null
  "$bench_load" "$A_BOOTSTRAP" "$topic" 1000 100 >/dev/null
  "$bench_io" commit "$A_BOOTSTRAP" "$group" "$topic" 300 >/dev/null
  cat >"$TMP/spec.yaml" <<SPEC
version: 1
clusters:
  A: {bootstrap: "$A_BOOTSTRAP"}
  B: {bootstrap: "$B_BOOTSTRAP"}
flows:
  - name: $id
    source: A
    target: B
    topics: {include: ["$id\\\\..*"]}
    groups: {include: ["$group"]}
    replication_factor: 1
    start: earliest
SPEC
  if ! "$mirror" apply -c "$TMP/spec.yaml" --auto-approve --detach >"$TMP/apply.log" 2>&1; then
    fail "mirror apply of the throwaway flow" "$(tail -n 20 "$TMP/apply.log")"
    return
  fi
  # Engine 1 copies the 1000 records, syncs the group and mirrors heartbeats; it stores no progress
  # (commit interval 10 min) and is killed with SIGKILL. Records are then deleted on the source before
  # engine 2 copies them, so engine 2 announces duplicates and reports records lost upstream: the two
  # counters that have series only after their first increment (docs/metrics.md) get one.
  start_engine 1 --commit-interval-ms 600000 || return
  local copied=0
  for i in $(seq 1 120); do
    scrape 1
    copied=$(awk -v t="$topic" '$1 ~ /^mirror_records_replicated_total\{/ && index($1, "topic=\"" t "\"") {s += $2} END {print s + 0}' "$TMP/metrics.1.txt")
    if [[ $copied -ge 1000 ]] && grep -q "^mirror_group_offsets_synced_total{.*group=\"$group\"" "$TMP/metrics.1.txt" &&
      grep -Eq "^mirror_heartbeat_latency_seconds\{flow=\"$id\"\} [0-9.e-]*[1-9]" "$TMP/metrics.1.txt"; then
      break
    fi
    sleep 0.5
  done
  [[ $copied -ge 1000 ]] && ok "mirror run copied the throwaway flow's $copied records (per /metrics)" ||
    fail "mirror run copies the throwaway flow's 1000 records" "copied $copied; $(tail -n 10 "$TMP/engine.1.log")"

  # the Dockerfile's HEALTHCHECK command, against this engine's port
  local hc
  hc=$(python3 - "$repo/deploy/container/Dockerfile" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
m = re.search(r"^HEALTHCHECK .*? CMD (\[.*\])\s*$", text, re.M)
print(json.loads(m.group(1))[2])
PY
)
  if bash -c "${hc//127.0.0.1\/9464/${addr%:*}/${addr#*:}}"; then
    ok "the Dockerfile's HEALTHCHECK command passes against a running engine's /healthz"
  else
    fail "the Dockerfile's HEALTHCHECK command passes against /healthz" "$(curl -sS "http://$addr/healthz")"
  fi
  if bash -c "${hc//127.0.0.1\/9464/127.0.0.1/1}" 2>/dev/null; then
    fail "the HEALTHCHECK command fails when nothing answers"
  else
    ok "the HEALTHCHECK command fails when nothing answers"
  fi

  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  "$bench_load" "$A_BOOTSTRAP" "$topic" 1000 100 >/dev/null
  printf '{"version": 1, "partitions": [{"topic": "%s", "partition": 0, "offset": -1}, {"topic": "%s", "partition": 1, "offset": -1}]}\n' \
    "$topic" "$topic" >"$TMP/delete-records.json"
  java -cp "$MM2_LIB/*" -Dlog4j2.configurationFile="$KAFKA_TOOLS_LOG4J_CONFIG" org.apache.kafka.tools.DeleteRecordsCommand \
    --bootstrap-server "$A_BOOTSTRAP" --offset-json-file "$TMP/delete-records.json" >"$TMP/delete-records.log" 2>&1 ||
    fail "deleting the source's records (DeleteRecordsCommand)" "$(tail -n 5 "$TMP/delete-records.log")"
  start_engine 2 --commit-interval-ms 200 || return
  for i in $(seq 1 120); do
    scrape 2
    grep -q "^mirror_errors_total{.*kind=\"data_loss_upstream\"" "$TMP/metrics.2.txt" &&
      grep -q "^mirror_duplicate_records_total{flow=\"$id\"}" "$TMP/metrics.2.txt" && break
    sleep 0.5
  done
  cat "$TMP/metrics.1.txt" "$TMP/metrics.2.txt" >"$TMP/metrics.txt"

  # every name the dashboard queries has samples in what the two engines served
  local sampled missing="" n
  sampled=$(grep -E '^mirror_' "$TMP/metrics.txt" | sed -E 's/[{ ].*//' | sort -u)
  for n in $(dashboard_metrics); do
    grep -qx "$n" <<<"$sampled" || missing+=" $n"
  done
  if [[ -z $missing ]]; then
    ok "/metrics serves all $(dashboard_metrics | wc -l) metric names the dashboard queries, with samples"
  else
    fail "/metrics serves every metric the dashboard queries; no samples of:$missing" "served: $(tr '\n' ' ' <<<"$sampled")"
  fi

  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  [[ $rc == 0 ]] && ok "mirror run stopped cleanly on SIGTERM (exit 0)" || fail "mirror run stops cleanly on SIGTERM" "exit $rc; $(tail -n 5 "$TMP/engine.2.log")"
}

cmd=${1:-}
shift || true
case $cmd in
  container) check_container "$(realpath "$1")" ;;
  helm) check_helm "$(realpath "$1")" ;;
  systemd) check_systemd "$(realpath "$1")" ;;
  dashboard) check_dashboard ;;
  scrape) check_scrape "$(realpath "$1")" "$(realpath "$2")" "$(realpath "$3")" ;;
  *) echo "usage: deploy.sh container MIRROR | helm MIRROR | systemd MIRROR | dashboard | scrape MIRROR BENCH_IO BENCH_LOAD" >&2; exit 64 ;;
esac
[[ $failures == 0 ]] || { echo "deploy.sh $cmd: $failures check(s) failed"; exit 1; }
echo "deploy.sh $cmd: all checks passed"
