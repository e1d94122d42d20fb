#!/usr/bin/env python3
"""Runs one job of a GitHub Actions workflow on this machine, the way a runner would, for tests.

    workflow-run.py WORKFLOW.yml --job JOB --context CONTEXT.json --workspace DIR --runner-temp DIR
                    --logs DIR [--skip STEP_ID ...]

Each `run:` step runs with bash -eo pipefail (GitHub's `shell: bash`) in the workspace, with the env
GitHub would give it: the default GITHUB_* variables, then the workflow's, job's and step's `env:` with
their ${{ }} expressions evaluated against CONTEXT.json (github, secrets, vars, inputs) and the outputs
of earlier steps. `if:` conditions are evaluated (default success()); GITHUB_OUTPUT, GITHUB_ENV,
GITHUB_PATH and GITHUB_STEP_SUMMARY work. Steps listed with --skip are not run (the test replaced them,
for example the step that installs mirror). `uses:` steps are emulated: actions/checkout does nothing
(the test prepared the workspace), actions/upload-artifact stores the files in the fake GitHub of
scripts/tests/fake-gh ($FAKE_GH_DIR/runs/RUN_ID/artifacts/NAME), with v4's overwrite and
if-no-files-found rules; any other action is an error. At the end the run is recorded there too
(workflow file name, head commit, event, conclusion), for `gh run list`.

Prints one line per step (outcome) and each step's output, indented; stores each step's output in
LOGS/NN-ID.log and the job summary in LOGS/summary.md. Exit 0 when the job succeeded, 1 when it failed,
2 when the workflow uses something this runner does not emulate.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml


class Unsupported(Exception):
    pass


# ---------------------------------------------------------------------------------------- expressions
TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||<=|>=|[!()<>,\[\]])|(?P<id>[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_*][A-Za-z0-9_\-]*)*))""")


def tokenize(text):
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = TOKEN.match(text, pos)
        if not m:
            raise Unsupported(f"cannot parse expression {text!r} at {text[pos:]!r}")
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


def truthy(v):
    return not (v is None or v is False or v == "" or v == 0)


def as_str(v):
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


def equal(a, b):
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()  # GitHub compares strings case-insensitively
    if isinstance(a, (int, float)) and isinstance(b, str) or isinstance(b, (int, float)) and isinstance(a, str):
        try:
            return float(a) == float(b)
        except ValueError:
            return False
    return a == b


class Evaluator:
    def __init__(self, lookup, status):
        self.lookup = lookup  # path -> value
        self.status = status  # {"failed": bool}

    def eval(self, text):
        self.toks, self.i = tokenize(text), 0
        v = self.or_()
        if self.i != len(self.toks):
            raise Unsupported(f"trailing tokens in expression {text!r}")
        return v

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, value=None):
        t = self.peek()
        if value is not None and t[1] != value:
            raise Unsupported(f"expected {value!r}, got {t[1]!r}")
        self.i += 1
        return t

    def or_(self):
        v = self.and_()
        while self.peek()[1] == "||":
            self.take()
            r = self.and_()
            v = v if truthy(v) else r
        return v

    def and_(self):
        v = self.cmp()
        while self.peek()[1] == "&&":
            self.take()
            r = self.cmp()
            v = r if truthy(v) else v
        return v

    def cmp(self):
        v = self.unary()
        while self.peek()[1] in ("==", "!="):
            op = self.take()[1]
            r = self.unary()
            v = equal(v, r) if op == "==" else not equal(v, r)
        return v

    def unary(self):
        if self.peek()[1] == "!":
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self):
        kind, val = self.take()
        if kind == "str":
            return val[1:-1].replace("''", "'")
        if kind == "num":
            return float(val) if "." in val else int(val)
        if val == "(":
            v = self.or_()
            self.take(")")
            return v
        if kind == "id":
            if self.peek()[1] == "(":
                self.take()
                args = []
                while self.peek()[1] != ")":
                    args.append(self.or_())
                    if self.peek()[1] == ",":
                        self.take()
                self.take(")")
                return self.call(val, args)
            if val in ("true", "false", "null"):
                return {"true": True, "false": False, "null": None}[val]
            return self.lookup(val)
        raise Unsupported(f"unexpected token {val!r}")

    def call(self, name, args):
        if name == "always":
            return True
        if name == "success":
            return not self.status["failed"]
        if name == "failure":
            return self.status["failed"]
        if name == "cancelled":
            return False
        if name == "contains":
            hay, needle = args
            if isinstance(hay, list):
                return any(equal(x, needle) for x in hay)
            return as_str(needle).lower() in as_str(hay).lower()
        if name == "startsWith":
            return as_str(args[0]).lower().startswith(as_str(args[1]).lower())
        if name == "format":
            fmt = as_str(args[0])
            return re.sub(r"\{(\d+)\}", lambda m: as_str(args[1 + int(m.group(1))]), fmt)
        if name == "toJSON":
            return json.dumps(args[0])
        raise Unsupported(f"expression function {name}() is not emulated")


EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)


# ---------------------------------------------------------------------------------------------- runner
class Job:
    def __init__(self, args):
        self.args = args
        with open(args.workflow) as f:
            self.wf = yaml.safe_load(f)
        with open(args.context) as f:
            self.ctx = json.load(f)
        self.job = self.wf["jobs"][args.job]
        self.steps_ctx = {}  # id -> {"outputs": {}, "outcome": ..., "conclusion": ...}
        self.env_ctx = {}
        self.extra_env = {}  # from GITHUB_ENV
        self.extra_path = []  # from GITHUB_PATH
        self.status = {"failed": False}
        os.makedirs(args.logs, exist_ok=True)
        os.makedirs(args.runner_temp, exist_ok=True)
        self.summary = os.path.join(args.logs, "summary.md")
        open(self.summary, "w").close()
        self.fake_gh = os.environ.get("FAKE_GH_DIR", "")
        github = self.ctx.setdefault("github", {})
        github.setdefault("workspace", args.workspace)
        github.setdefault("server_url", "https://github.com")
        github.setdefault("token", "fake-token")
        github.setdefault("workflow", os.path.basename(args.workflow))
        self.ctx.setdefault("runner", {}).setdefault("temp", args.runner_temp)
        self.ctx["runner"].setdefault("os", "Linux")

    def lookup(self, path):
        parts = path.split(".")
        if parts[0] == "steps":
            cur = self.steps_ctx
        elif parts[0] == "env":
            cur = self.env_ctx
        elif parts[0] in ("github", "secrets", "vars", "inputs", "runner", "matrix", "needs", "job"):
            cur = self.ctx.get(parts[0], {})
        else:
            raise Unsupported(f"unknown context in {path!r}")
        for p in parts[1:]:
            if not isinstance(cur, dict):
                return None
            cur = cur.get(p)
        return cur

    def evaluate(self, text):
        return Evaluator(self.lookup, self.status).eval(text)

    def interpolate(self, value):
        if not isinstance(value, str):
            return as_str(value)
        return EXPR.sub(lambda m: as_str(self.evaluate(m.group(1))), value)

    def condition(self, cond):
        if cond is None:
            return not self.status["failed"]
        if isinstance(cond, bool):
            return cond
        text = cond.strip()
        m = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.S)
        if m:
            text = m.group(1)
        # GitHub adds success() unless the condition calls a status function itself.
        if not re.search(r"\b(always|success|failure|cancelled)\s*\(", text):
            text = f"success() && ({text})"
        return truthy(self.evaluate(text))

    def default_env(self):
        g = self.ctx["github"]
        env = dict(os.environ)
        env.update({
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": self.args.workspace,
            "RUNNER_TEMP": self.args.runner_temp,
            "RUNNER_OS": "Linux",
            "GITHUB_SHA": as_str(g.get("sha")),
            "GITHUB_REF": as_str(g.get("ref")),
            "GITHUB_REF_NAME": as_str(g.get("ref_name")),
            "GITHUB_REPOSITORY": as_str(g.get("repository")),
            "GITHUB_RUN_ID": as_str(g.get("run_id")),
            "GITHUB_RUN_ATTEMPT": as_str(g.get("run_attempt", 1)),
            "GITHUB_SERVER_URL": as_str(g.get("server_url")),
            "GITHUB_EVENT_NAME": as_str(g.get("event_name")),
            "GITHUB_WORKFLOW": as_str(self.wf.get("name")),
        })
        return env

    def step_env(self, step):
        self.env_ctx = {}
        for scope in (self.wf.get("env") or {}, self.job.get("env") or {}, step.get("env") or {}):
            for k, v in scope.items():
                self.env_ctx[k] = self.interpolate(v)
        env = self.default_env()
        env.update(self.extra_env)
        env.update(self.env_ctx)
        if self.extra_path:
            env["PATH"] = os.pathsep.join(list(reversed(self.extra_path)) + [env.get("PATH", "")])
        return env

    def run_script(self, n, sid, step, log):
        env = self.step_env(step)
        files = {}
        for var in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY"):
            fd, files[var] = tempfile.mkstemp(prefix=var.lower() + ".", dir=self.args.runner_temp)
            os.close(fd)
            env[var] = files[var]
        shell = step.get("shell") or ((self.job.get("defaults") or {}).get("run") or {}).get("shell") \
            or ((self.wf.get("defaults") or {}).get("run") or {}).get("shell") or "bash"
        if shell != "bash":
            raise Unsupported(f"step {sid}: shell {shell!r} is not emulated (only bash)")
        script = os.path.join(self.args.runner_temp, f"step-{n:02d}-{sid}.sh")
        with open(script, "w") as f:
            f.write(self.interpolate(step["run"]))
        cwd = self.args.workspace
        if step.get("working-directory"):
            cwd = os.path.join(cwd, self.interpolate(step["working-directory"]))
        with open(log, "w") as out:
            rc = subprocess.call(["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
                                 cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        outputs = parse_kv_file(files["GITHUB_OUTPUT"])
        self.extra_env.update(parse_kv_file(files["GITHUB_ENV"]))
        with open(files["GITHUB_PATH"]) as f:
            self.extra_path += [line.strip() for line in f if line.strip()]
        with open(files["GITHUB_STEP_SUMMARY"]) as f, open(self.summary, "a") as s:
            s.write(f.read())
        for p in files.values():
            os.unlink(p)
        return rc, outputs

    def upload_artifact(self, sid, step, log):
        w = {k: self.interpolate(v) for k, v in (step.get("with") or {}).items()}
        name = w.get("name") or "artifact"
        paths = [p.strip() for p in w.get("path", "").splitlines() if p.strip()]
        found = [p for p in paths if os.path.isfile(p)]
        missing = w.get("if-no-files-found", "warn")
        with open(log, "w") as out:
            if not found:
                out.write(f"upload-artifact: no files found for {paths}\n")
                return (1 if missing == "error" else 0), {}
            if not self.fake_gh:
                out.write("upload-artifact: FAKE_GH_DIR is not set, nowhere to store the artifact\n")
                return 1, {}
            dest = os.path.join(self.fake_gh, "runs", as_str(self.ctx["github"].get("run_id")), "artifacts", name)
            if os.path.exists(dest):
                if w.get("overwrite", "false").lower() != "true":
                    out.write(f"upload-artifact: an artifact named {name} already exists in this run "
                              f"(set overwrite: true)\n")
                    return 1, {}
                shutil.rmtree(dest)
            os.makedirs(dest)
            for p in found:
                shutil.copy(p, dest)
                out.write(f"upload-artifact: {name}: {os.path.basename(p)}\n")
        return 0, {}

    def run(self):
        cond = self.job.get("if")
        if cond is not None and not self.condition(cond):
            print(f"job {self.args.job}: skipped (if: {cond})")
            return 0
        results = []
        for n, step in enumerate(self.job["steps"], 1):
            sid = step.get("id") or f"step{n}"
            label = step.get("name") or step.get("uses") or sid
            log = os.path.join(self.args.logs, f"{n:02d}-{sid}.log")
            if sid in self.args.skip:
                outcome, rc, outputs = "replaced", 0, {}
            elif not self.condition(step.get("if")):
                outcome, rc, outputs = "skipped", 0, {}
            elif "uses" in step:
                action = step["uses"].split("@")[0]
                if action == "actions/checkout":
                    rc, outputs = 0, {}
                    open(log, "w").write("checkout: emulated (the test prepared the workspace)\n")
                elif action == "actions/upload-artifact":
                    rc, outputs = self.upload_artifact(sid, step, log)
                else:
                    raise Unsupported(f"step {sid}: action {step['uses']} is not emulated")
                outcome = "success" if rc == 0 else "failure"
            else:
                rc, outputs = self.run_script(n, sid, step, log)
                outcome = "success" if rc == 0 else "failure"
            if outcome == "failure" and not step.get("continue-on-error"):
                self.status["failed"] = True
            state = "success" if outcome == "replaced" else outcome
            self.steps_ctx[sid] = {"outputs": outputs, "outcome": state, "conclusion": state}
            results.append((sid, label, outcome, rc))
            print(f"  step {n:2d} {sid:<12} {outcome:<8} exit {rc:<3} {label}")
            if outcome in ("success", "failure") and os.path.exists(log):
                with open(log) as f:
                    for line in f.read().splitlines()[-int(self.args.show_lines):]:
                        print(f"      | {line}")
        conclusion = "failure" if self.status["failed"] else "success"
        self.record_run(conclusion)
        print(f"job {self.args.job}: {conclusion}")
        return 1 if self.status["failed"] else 0

    def record_run(self, conclusion):
        if not self.fake_gh:
            return
        g = self.ctx["github"]
        head = ((g.get("event") or {}).get("pull_request") or {}).get("head", {}).get("sha") or g.get("sha")
        d = os.path.join(self.fake_gh, "runs", as_str(g.get("run_id")))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "run.json"), "w") as f:
            json.dump({"databaseId": int(g.get("run_id")), "workflowName": self.wf.get("name"),
                       "workflowFile": os.path.basename(self.args.workflow), "headSha": head,
                       "event": g.get("event_name"), "status": "completed", "conclusion": conclusion,
                       "url": f"https://github.com/{g.get('repository')}/actions/runs/{g.get('run_id')}"}, f)


def parse_kv_file(path):
    out = {}
    with open(path) as f:
        lines = f.read().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^([^=<]+)<<(.+)$", line)
        if m:
            key, delim, val = m.group(1), m.group(2), []
            i += 1
            while i < len(lines) and lines[i] != delim:
                val.append(lines[i])
                i += 1
            out[key] = "\n".join(val)
        elif "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
        i += 1
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workflow")
    ap.add_argument("--job", required=True)
    ap.add_argument("--context", required=True)
    ap.add_argument("--workspace", required=True)
    ap.add_argument("--runner-temp", required=True)
    ap.add_argument("--logs", required=True)
    ap.add_argument("--skip", action="append", default=[])
    ap.add_argument("--show-lines", default="12", help="lines of each step's output to print")
    args = ap.parse_args()
    args.workspace = os.path.abspath(args.workspace)
    args.runner_temp = os.path.abspath(args.runner_temp)
    try:
        return Job(args).run()
    except Unsupported as e:
        print(f"workflow-run: {args.workflow}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
