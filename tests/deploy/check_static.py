#!/usr/bin/env python3
"""Static checks of the deployment files: check_static.py SOURCE_DIR

- every tracked JSON and ndjson file parses;
- every tracked YAML file (Compose, Filebeat, Prometheus, Grafana
  provisioning) parses;
- elk/kibana-objects.ndjson is what elk/make-kibana-objects.py writes, and
  every reference in it names an object defined in it;
- the index template maps the contract's fields with the right types;
- filebeat.yml reads the notification file with the ndjson parser as
  documented;
- docker-compose.yml: profiles, bind-mount sources that exist, healthchecks
  and depends_on conditions for the start order, no fixed name or port for
  the scalable processing_service, variables defined in docker/compose.env;
- the Grafana dashboard queries only the Prometheus data source it is
  provisioned with.

Runs with Debian's python3 and python3-yaml (scripts/install-deps.sh).
Prints "ok"/"FAIL" lines and a closing "N passed, N failed" line.
"""
import json
import os
import re
import subprocess
import sys

import yaml

SRC = os.path.abspath(sys.argv[1])
results = []


def check(name, ok, detail=""):
    ok = bool(ok)
    results.append(ok)
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))


def tracked_files():
    try:
        out = subprocess.run(["git", "ls-files"], cwd=SRC, check=True,
                             capture_output=True, text=True).stdout
        return [f for f in out.splitlines() if os.path.isfile(os.path.join(SRC, f))]
    except (OSError, subprocess.CalledProcessError):
        found = []
        for root, dirs, files in os.walk(SRC):
            dirs[:] = [d for d in dirs if d not in (".git", "build", ".local-run")]
            found += [os.path.relpath(os.path.join(root, f), SRC) for f in files]
        return found


def load(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8") as f:
        return f.read()


def parse_all(files):
    for rel in files:
        if rel.endswith(".json"):
            try:
                json.loads(load(rel))
                check(f"{rel} is JSON", True)
            except ValueError as e:
                check(f"{rel} is JSON", False, e)
        elif rel.endswith(".ndjson"):
            bad = []
            for n, line in enumerate(load(rel).splitlines(), 1):
                try:
                    json.loads(line)
                except ValueError as e:
                    bad.append(f"line {n}: {e}")
            check(f"{rel} is ndjson", not bad, bad[:3])
        elif rel.endswith((".yml", ".yaml")):
            try:
                list(yaml.safe_load_all(load(rel)))
                check(f"{rel} is YAML", True)
            except yaml.YAMLError as e:
                check(f"{rel} is YAML", False, e)


def kibana_objects():
    rel = "elk/kibana-objects.ndjson"
    text = load(rel)
    gen = subprocess.run([sys.executable, "-c",
                          "import importlib.util, io, json, sys\n"
                          "spec = importlib.util.spec_from_file_location('m', sys.argv[1])\n"
                          "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
                          "print(m.render(), end='')\n",
                          os.path.join(SRC, "elk/make-kibana-objects.py")],
                         capture_output=True, text=True)
    check(f"{rel} is up to date with elk/make-kibana-objects.py",
          gen.returncode == 0 and gen.stdout == text,
          gen.stderr or "run: python3 elk/make-kibana-objects.py")
    objs = [json.loads(line) for line in text.splitlines()]
    defined = {(o["type"], o["id"]) for o in objs}
    check("Kibana object ids are unique", len(defined) == len(objs))
    types = {o["type"] for o in objs}
    check("Kibana objects: a data view, saved searches, visualizations, a dashboard",
          {"index-pattern", "search", "visualization", "dashboard"} <= types, types)
    for o in objs:
        names = set()
        for ref in o.get("references", []):
            check(f"{o['type']}/{o['id']} references {ref['type']}/{ref['id']}, defined in the file",
                  (ref["type"], ref["id"]) in defined)
            names.add(ref["name"])
        attrs = o["attributes"]
        # Every reference name used inside the object's JSON strings exists.
        used = set()
        ssj = attrs.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON")
        if ssj:
            src = json.loads(ssj)
            if "indexRefName" in src:
                used.add(src["indexRefName"])
        if "panelsJSON" in attrs:
            panels = json.loads(attrs["panelsJSON"])
            used |= {p["panelRefName"] for p in panels}
            # Kibana 8 looks a panel's reference up as panelIndex:panelRefName.
            used |= {f"{p['panelIndex']}:{p['panelRefName']}" for p in panels}
            check(f"dashboard/{o['id']}: every panel has a type and a version (8.x format)",
                  all(p.get("type") and p.get("version") for p in panels))
        if "visState" in attrs:
            vis = json.loads(attrs["visState"])
            check(f"visualization/{o['id']} has aggregations", bool(vis.get("aggs")))
        check(f"{o['type']}/{o['id']}: every reference name it uses is in its references",
              used <= names, used - names)
        if o["type"] == "index-pattern":
            check("data view has @timestamp as its time field",
                  attrs.get("timeFieldName") == "@timestamp")


def index_template():
    tmpl = json.loads(load("elk/index-template.json"))
    props = tmpl["template"]["mappings"]["properties"]

    def mapped(path):
        node = {"properties": props}
        for part in path.split("."):
            node = node.get("properties", {}).get(part)
            if node is None:
                return None
        return node.get("type")

    want = {"@timestamp": "date", "log.level": "keyword", "ecs.version": "keyword",
            "service.name": "keyword", "event.dataset": "keyword", "event.id": "keyword",
            "order.id": "keyword", "order.status": "keyword", "order.reason": "keyword",
            "order.item": "keyword", "order.quantity": "long", "user.id": "keyword",
            "trace.id": "keyword", "kafka.topic": "keyword", "kafka.partition": "long",
            "kafka.offset": "long", "message": "text"}
    wrong = {f: mapped(f) for f, t in want.items() if mapped(f) != t}
    check("index template maps the contract's fields", not wrong, wrong)
    check("index template is for the order-notifications data stream",
          tmpl["index_patterns"] == ["order-notifications*"] and "data_stream" in tmpl)


def filebeat():
    fb = yaml.safe_load(load("elk/filebeat.yml"))
    inputs = fb["filebeat.inputs"]
    check("filebeat: one filestream input with an id",
          len(inputs) == 1 and inputs[0]["type"] == "filestream" and inputs[0].get("id"))
    nd = [p["ndjson"] for p in inputs[0].get("parsers", []) if "ndjson" in p]
    check("filebeat: ndjson parser with target \"\", overwrite_keys, add_error_key",
          nd and nd[0].get("target") == "" and nd[0].get("overwrite_keys") is True
          and nd[0].get("add_error_key") is True, nd)
    check("filebeat: reads the file notification_service writes in the stack",
          any(p.startswith("/var/log/pipeline/notifications.ndjson") for p in inputs[0]["paths"]))
    check("filebeat: writes to the data stream of the index template",
          fb["output.elasticsearch"]["index"] == "order-notifications")


def compose():
    path = os.path.join(SRC, "docker/docker-compose.yml")
    doc = yaml.safe_load(load("docker/docker-compose.yml"))
    svcs = doc["services"]
    env_names = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", load("docker/compose.env"), re.M))
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", load("docker/docker-compose.yml")))
    check("every compose variable is set in docker/compose.env", used <= env_names, used - env_names)
    profiles = {name: tuple(s.get("profiles", ())) for name, s in svcs.items()}
    check("profiles: kafka-ui in tools; prometheus, grafana in metrics; the rest always",
          profiles == {**{n: () for n in svcs}, "kafka-ui": ("tools",),
                       "prometheus": ("metrics",), "grafana": ("metrics",)}, profiles)
    expected = {"kafka", "order_service", "processing_service", "notification_service",
                "elasticsearch", "kibana", "setup", "filebeat", "kafka-ui", "prometheus",
                "grafana"}
    check("compose has the whole stack", set(svcs) == expected, set(svcs) ^ expected)
    for name, s in svcs.items():
        for vol in s.get("volumes", []):
            source = vol.split(":")[0]
            if source.startswith("."):
                check(f"{name}: bind-mount source {source} exists",
                      os.path.exists(os.path.normpath(os.path.join(os.path.dirname(path), source))))
    p = svcs["processing_service"]
    check("processing_service scales: no container_name, a host port range",
          "container_name" not in p and all("PROCESSING_HOST_PORTS" in port for port in p.get("ports", [])))
    check("no container_name anywhere (several stacks may not collide on names either)",
          not any("container_name" in s for s in svcs.values()))

    def cond(svc, dep):
        return svcs[svc].get("depends_on", {}).get(dep, {}).get("condition")

    for svc in ("order_service", "processing_service", "notification_service", "kafka-ui"):
        check(f"{svc} starts once kafka is healthy", cond(svc, "kafka") == "service_healthy")
    check("kibana starts once elasticsearch is healthy", cond("kibana", "elasticsearch") == "service_healthy")
    check("setup waits for a healthy Elasticsearch and Kibana",
          cond("setup", "elasticsearch") == "service_healthy" and cond("setup", "kibana") == "service_healthy")
    check("filebeat starts after setup completed",
          cond("filebeat", "setup") == "service_completed_successfully")
    check("grafana starts once prometheus is healthy", cond("grafana", "prometheus") == "service_healthy")
    kenv = svcs["kafka"]["environment"]
    check("kafka: KRaft with a CLUSTER_ID, a listener for containers and one for the host on 9092",
          kenv.get("CLUSTER_ID") and "broker,controller" == kenv.get("KAFKA_PROCESS_ROLES")
          and "INTERNAL://kafka:29092" in kenv.get("KAFKA_ADVERTISED_LISTENERS", "")
          and any(p.endswith(":9092") for p in svcs["kafka"]["ports"]))
    for name in ("kafka", "elasticsearch", "kibana", "prometheus"):
        check(f"{name} has a healthcheck", "healthcheck" in svcs[name])
    fb_vols = svcs["filebeat"]["volumes"]
    ns_vols = svcs["notification_service"]["volumes"]
    check("filebeat reads the volume notification_service writes",
          any(v.startswith("notification-logs:/var/log/pipeline") for v in fb_vols)
          and any(v.startswith("notification-logs:/var/log/pipeline") for v in ns_vols))
    ns_env = svcs["notification_service"]["environment"]
    check("notification_service writes where filebeat reads",
          ns_env.get("NOTIFICATION_LOG_FILE") == "/var/log/pipeline/notifications.ndjson")
    dockerfile = load("docker/Dockerfile")
    for svc in ("order_service", "processing_service", "notification_service"):
        check(f"{svc} builds from the Dockerfile target of its name",
              svcs[svc]["build"]["target"] == svc and f"AS {svc}" in dockerfile)
    deps = load("scripts/install-deps.sh")

    def pkgs(name):
        m = re.search(rf"^{name}=\((.*?)\)", deps, re.M | re.S)
        return set(m.group(1).split()) if m else set()

    build_stage, _, runtime_stage = dockerfile.partition("FROM debian:12-slim AS runtime")
    runtime_missing = {p for p in pkgs("runtime") if p not in runtime_stage}
    check("runtime image installs install-deps.sh's runtime packages",
          pkgs("runtime") and not runtime_missing, runtime_missing)
    build_missing = {p for p in pkgs("build") - {"git"} if p not in build_stage}
    check("build stage installs install-deps.sh's build packages",
          pkgs("build") and not build_missing, build_missing)
    check("runtime images: non-root user and a HEALTHCHECK per service",
          "USER pipeline" in dockerfile and len(re.findall(r"^HEALTHCHECK ", dockerfile, re.M)) == 3)


def grafana():
    ds = yaml.safe_load(load("docker/grafana/provisioning/datasources/prometheus.yml"))
    uids = {d["uid"] for d in ds["datasources"]}
    dash = json.loads(load("docker/grafana/dashboards/order-pipeline.json"))
    bad = [p["title"] for p in dash["panels"]
           if p["datasource"]["uid"] not in uids or not p.get("targets")
           or any(t["datasource"]["uid"] not in uids or not t["expr"] for t in p["targets"])]
    check("grafana panels query the provisioned Prometheus", not bad, bad)
    prom = yaml.safe_load(load("docker/prometheus/prometheus.yml"))
    jobs = {j["job_name"] for j in prom["scrape_configs"]}
    check("prometheus scrapes the three services",
          jobs == {"order_service", "processing_service", "notification_service"}, jobs)


def env_examples():
    """Each service folder's .env.example lists that service's variables
    with the contract's defaults."""
    common = {"KAFKA_BOOTSTRAP_SERVERS": "localhost:9092", "LOG_LEVEL": "info", "LOG_FORMAT": "",
              "TOPIC_PARTITIONS": "6", "TOPIC_REPLICATION_FACTOR": "1"}
    own = {"order_service": {"HTTP_PORT": "8001", "ORDERS_TOPIC": "orders",
                             "DELIVERY_TIMEOUT_MS": None, "HTTP_THREADS": None},
           "processing_service": {"HTTP_PORT": "8002", "ORDERS_TOPIC": "orders",
                                  "NOTIFICATIONS_TOPIC": "notifications",
                                  "KAFKA_GROUP_ID": "processing-service",
                                  "KAFKA_AUTO_OFFSET_RESET": "earliest",
                                  "MAX_QUANTITY": "100", "CATALOG_FILE": "",
                                  "TRANSACTIONAL_ID": None, "TXN_MAX_RECORDS": None,
                                  "TXN_MAX_MS": None, "TXN_MIN_MS": None},
           "notification_service": {"HTTP_PORT": "8003",
                                    "NOTIFICATIONS_TOPIC": "notifications",
                                    "KAFKA_GROUP_ID": "notification-service",
                                    "KAFKA_AUTO_OFFSET_RESET": "earliest",
                                    "NOTIFICATION_LOG_FILE": None,
                                    "NOTIFY_WEBHOOK_URL": "", "NOTIFY_RETRY_LIMIT": None}}
    for svc, want in own.items():
        rel = f"{svc}/.env.example"
        listed = dict(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=(.*)$", load(rel), re.M))
        want = {**common, **want}
        wrong = {k: listed.get(k) for k, v in want.items()
                 if k not in listed or (v is not None and listed[k] != v)}
        check(f"{rel} lists the service's variables with their defaults", not wrong, wrong)


def main():
    files = tracked_files()
    parse_all(files)
    for step in (kibana_objects, index_template, filebeat, compose, grafana, env_examples):
        try:
            step()
        except (KeyError, TypeError, ValueError, AttributeError, OSError) as e:
            check(step.__name__, False, f"{type(e).__name__}: {e}")
    passed = sum(results)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
