"""The manifests match the services they run: images are docker/Dockerfile's
targets, ports and probe paths are docs/CONTRACT.md's and the Dockerfile's,
every environment variable is one the service documents (its --help, the
README's and CONTRACT's tables, or KAFKA_<NAME> for a real librdkafka
property), X_FILE only for such an X and pointing into a mounted Secret;
every container runs as the images' user, locked down and with resources;
the Filebeat sidecar ships the same fields as Compose."""
import os
import re
import subprocess

import pytest
import yaml
from confluent_kafka import Producer, KafkaException

import manifests
from manifests import named, of_kind, source

BINARIES = {"order_service": "PIPELINE_ORDER_SERVICE",
            "processing_service": "PIPELINE_PROCESSING_SERVICE",
            "notification_service": "PIPELINE_NOTIFICATION_SERVICE"}


@pytest.fixture(params=manifests.OVERLAYS)
def res(request):
    return manifests.load(request.param)


def deployments(res):
    return [(d, manifests.service_container(d), manifests.SERVICES[d["metadata"]["name"]])
            for d in of_kind(res, "Deployment")]


def dockerfile_targets():
    """{target: (EXPOSE port, ENV HTTP_PORT)} of docker/Dockerfile's service targets."""
    targets, current = {}, None
    for line in source("docker", "Dockerfile").splitlines():
        m = re.match(r"FROM \S+ AS (\S+)", line)
        if m:
            current = m.group(1)
        m = re.match(r"EXPOSE (\d+)", line)
        if m and current:
            targets.setdefault(current, {})["expose"] = int(m.group(1))
        m = re.match(r"ENV HTTP_PORT=(\d+)", line)
        if m and current:
            targets.setdefault(current, {})["http_port"] = m.group(1)
    return targets


def contract_ports():
    """HTTP_PORT defaults from CONTRACT's table: order 8001, processing ..."""
    row = next(l for l in source("docs", "CONTRACT.md").splitlines() if l.startswith("| `HTTP_PORT`"))
    return {f"{svc}_service": int(port) for svc, port in re.findall(r"(\w+) (\d{4})", row)}


def documented_names(target):
    """Variables the service documents: its --help, and README's and
    CONTRACT's configuration tables."""
    binary = os.environ[BINARIES[target]]
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30, check=True).stdout
    names = set(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", out))
    for doc in (source("README.md"), source("docs", "CONTRACT.md")):
        for line in doc.splitlines():
            if line.startswith("| `"):
                names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def is_librdkafka_property(prop):
    """Whether librdkafka (the Python client's copy) knows 'prop'."""
    try:
        Producer({prop: "", "bootstrap.servers": "127.0.0.1:1", "log_level": 0})
    except KafkaException as e:
        return "No such configuration property" not in str(e)
    except Exception:
        return True  # known, but "" is not a valid value for it
    return True


def test_images_are_the_dockerfile_targets(res):
    targets = dockerfile_targets()
    assert set(manifests.SERVICES.values()) <= set(targets)
    for d, c, target in deployments(res):
        name = c["image"].rsplit(":", 1)[0].rsplit("/", 1)[-1]
        assert name == target, f"{d['metadata']['name']} runs {c['image']}, not target {target}"
        for other in d["spec"]["template"]["spec"]["containers"]:
            if other["image"].rsplit(":", 1)[0].rsplit("/", 1)[-1] in targets:
                assert other["image"] == c["image"], "one image version per pod"


def test_ports_match_the_dockerfile_and_contract(res):
    targets, contract = dockerfile_targets(), contract_ports()
    for d, c, target in deployments(res):
        port, = c["ports"]
        assert port["name"] == "http"
        assert port["containerPort"] == targets[target]["expose"] == contract[target]
        assert manifests.env_of(res, c)["HTTP_PORT"] == targets[target]["http_port"] == str(contract[target])
    svc = named(res, "Service", "order-service")
    assert svc["spec"]["ports"][0]["targetPort"] == "http"


def test_probes_use_the_contracts_health_endpoints(res):
    contract = source("docs", "CONTRACT.md")
    assert "`GET /healthz` (process alive)" in contract and "`GET /readyz`" in contract
    for d, c, target in deployments(res):
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}


def test_environment_is_documented_and_secrets_come_from_files(res):
    for d, c, target in deployments(res):
        names = [e["name"] for e in c.get("env", [])]
        assert len(names) == len(set(names)), f"{target}: duplicate env names"
        env = manifests.env_of(res, c)
        documented = documented_names(target)
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        volumes = {v["name"]: v for v in d["spec"]["template"]["spec"]["volumes"]}

        def known(name):
            if name in documented:
                return True
            m = re.fullmatch(r"KAFKA_([A-Z0-9_]+)", name)
            return bool(m) and is_librdkafka_property(m.group(1).lower().replace("_", "."))

        for name, value in env.items():
            if known(name):  # NOTIFICATION_LOG_FILE, CATALOG_FILE: documented as such
                secret_file = False
            else:
                # The _FILE convention: X_FILE names a file holding X's value.
                assert name.endswith("_FILE") and known(name[:-len("_FILE")]), \
                    f"{target}: {name} is not a documented variable"
                secret_file = True
            if secret_file:
                mount = mounts[os.path.dirname(value)]
                assert mount.get("readOnly") and "secret" in volumes[mount["name"]], \
                    f"{target}: {name} does not point into a mounted Secret"
            elif re.search(r"PASSWORD|SECRET|TOKEN", name):
                pytest.fail(f"{target}: {name} given as a value; use {name}_FILE and a Secret")


def test_every_container_is_locked_down_and_sized(res):
    uid = int(re.search(r"useradd .*--uid (\d+)", source("docker", "Dockerfile")).group(1))
    for d in of_kind(res, "Deployment"):
        pod = d["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == uid
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod.get("automountServiceAccountToken") is False
        writable = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        for c in pod["containers"]:
            where = f"{d['metadata']['name']}/{c['name']}"
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"] == {"drop": ["ALL"]}, where
            assert "runAsUser" not in sc or sc["runAsUser"] == uid, where
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]), where
            assert "memory" in c["resources"]["limits"], where
            for m in c.get("volumeMounts", []):
                assert m.get("readOnly") or m["name"] in writable, f"{where}: {m['name']} writable"


def test_filebeat_sidecar_ships_the_same_fields_as_compose(res):
    compose = yaml.safe_load(source("elk", "filebeat.yml"))
    d = named(res, "Deployment", "notification-service")
    pod = d["spec"]["template"]["spec"]
    fb = next(c for c in pod["containers"] if c["name"] == "filebeat")
    config = yaml.safe_load(named(res, "ConfigMap", "filebeat")["data"]["filebeat.yml"])
    assert config["filebeat.inputs"] == compose["filebeat.inputs"]
    assert config["processors"] == compose["processors"]
    assert config["output.elasticsearch"]["index"] == compose["output.elasticsearch"]["index"]
    elastic = re.search(r"^ELASTIC_VERSION=(\S+)", source("docker", "compose.env"), re.M).group(1)
    assert fb["image"] == f"docker.elastic.co/beats/filebeat:{elastic}"
    # The file the service writes is the one Filebeat reads, on a shared volume.
    log_file = manifests.env_of(res, manifests.service_container(d))["NOTIFICATION_LOG_FILE"]
    assert any(re.fullmatch(p.replace(".", r"\.").replace("*", ".*"), log_file)
               for p in config["filebeat.inputs"][0]["paths"])
    mount = {c["name"]: {m["mountPath"]: m["name"] for m in c["volumeMounts"]} for c in pod["containers"]}
    log_dir = os.path.dirname(log_file)
    assert mount["filebeat"][log_dir] == mount["notification-service"][log_dir] == mount["log-rotate"][log_dir]
    rotate = next(c for c in pod["containers"] if c["name"] == "log-rotate")
    assert manifests.env_of(res, rotate)["LOG_FILE"] == log_file
    assert pod["shareProcessNamespace"] is True, "log-rotate signals the service"
