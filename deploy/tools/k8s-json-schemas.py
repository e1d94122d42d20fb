#!/usr/bin/env python3
"""Writes kubeconform schemas (standalone, strict) for a few Kubernetes kinds, offline.

kubeconform normally downloads JSON schemas generated from Kubernetes' OpenAPI document. This reads
that document from the Go module k8s.io/kubernetes (api/openapi-spec/swagger.json, fetched with
`go mod download` through the Go module proxy by scripts/install-deploy-tools) and writes, for each
kind asked for, the file kubeconform's default layout expects:

    OUT/v<VERSION>-standalone-strict/<kind><-group><-version>.json   e.g. deployment-apps-v1.json

Each file holds the kind's definition plus every definition it references (under "definitions"), with:
- additionalProperties: false on every object that lists its properties (what -strict means: unknown
  fields are errors), except where the document itself allows extra keys;
- IntOrString as string-or-integer and Quantity as string-or-number (their real wire forms);
- null accepted wherever a value is optional (Helm renders empty values as null; the API server
  ignores them);
- OpenAPI's "format" hints dropped (int32, int64, byte, date-time: the schema validator does not
  need them and would reject unknown ones).

    k8s-json-schemas.py SWAGGER_JSON OUT VERSION KIND[/GROUP/VERSION] ...
    e.g. k8s-json-schemas.py swagger.json .cache/k8s-schemas 1.34.4 apps/v1/Deployment v1/ConfigMap
"""
import copy
import json
import os
import sys

SPECIAL = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {"oneOf": [{"type": "string"}, {"type": "number"}]},
}


def refs(node, out):
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str) and r.startswith("#/definitions/"):
            out.add(r[len("#/definitions/"):])
        for v in node.values():
            refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def tighten(node):
    """Strict objects, nullable optionals, no formats; returns the new node."""
    if isinstance(node, list):
        return [tighten(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: tighten(v) for k, v in node.items() if k != "format" and not k.startswith("x-kubernetes-")}
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
        required = set(node.get("required", []))
        for name, prop in node["properties"].items():
            if name not in required:
                node["properties"][name] = nullable(prop)
    return node


def nullable(prop):
    t = prop.get("type")
    if isinstance(t, str):
        prop = dict(prop, type=[t, "null"])
    elif "$ref" in prop or "oneOf" in prop:
        prop = {"oneOf": [{"type": "null"}, prop]}
    return prop


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 64
    swagger, out, version, kinds = argv[1], argv[2], argv[3], argv[4:]
    with open(swagger, encoding="utf-8") as f:
        defs = json.load(f)["definitions"]
    by_gvk = {}
    for name, d in defs.items():
        for gvk in d.get("x-kubernetes-group-version-kind", []):
            by_gvk[(gvk["group"], gvk["version"], gvk["kind"])] = name
    folder = os.path.join(out, f"v{version}-standalone-strict")
    os.makedirs(folder, exist_ok=True)
    for spec in kinds:
        parts = spec.split("/")
        group, ver, kind = (parts[0], parts[1], parts[2]) if len(parts) == 3 else ("", parts[0], parts[1])
        name = by_gvk.get((group, ver, kind))
        if name is None:
            print(f"k8s-json-schemas: no definition for {spec} in {swagger}", file=sys.stderr)
            return 1
        seen, todo = set(), [name]
        while todo:
            n = todo.pop()
            if n in seen or n in SPECIAL:
                seen.add(n)
                continue
            seen.add(n)
            found = set()
            refs(defs[n], found)
            todo.extend(found - seen)
        schema = tighten(copy.deepcopy(defs[name]))
        schema["definitions"] = {n: SPECIAL.get(n) or tighten(copy.deepcopy(defs[n])) for n in sorted(seen)}
        # apiVersion and kind must be exactly this kind's
        props = schema["properties"]
        props["apiVersion"] = {"type": "string", "enum": [f"{group}/{ver}" if group else ver]}
        props["kind"] = {"type": "string", "enum": [kind]}
        suffix = f"-{group.split('.')[0].lower()}-{ver}" if group else f"-{ver}"
        path = os.path.join(folder, f"{kind.lower()}{suffix}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(schema, f, separators=(",", ":"), sort_keys=True)
        os.replace(path + ".tmp", path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
