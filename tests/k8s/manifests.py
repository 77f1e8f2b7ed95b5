"""The built overlays of deploy/k8s, for the k8s tests.

PIPELINE_K8S_DIR holds one <overlay>.yaml per overlay (written by
build_overlay.sh, the k8s.build.* tests); OVERLAYS names them."""
import os
import re

import yaml

OVERLAYS = ("dev", "prod")
SOURCE_DIR = os.environ.get("PIPELINE_SOURCE_DIR",
                            os.path.join(os.path.dirname(__file__), "..", ".."))
# The operators' resources, checked by test_operators.py; all others are
# Kubernetes' own, checked against its schemas by test_schemas.py.
OPERATOR_GROUPS = ("kafka.strimzi.io", "keda.sh", "monitoring.coreos.com")
# Dockerfile target of each Deployment's service container.
SERVICES = {"order-service": "order_service",
            "processing-service": "processing_service",
            "notification-service": "notification_service"}


def load(overlay):
    """Every resource of a built overlay, as a list of dicts."""
    path = os.path.join(os.environ["PIPELINE_K8S_DIR"], overlay + ".yaml")
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def source(*parts):
    with open(os.path.join(SOURCE_DIR, *parts)) as f:
        return f.read()


def group(resource):
    api = resource["apiVersion"]
    return api.split("/")[0] if "/" in api else ""


def of_kind(resources, kind):
    return [r for r in resources if r["kind"] == kind]


def named(resources, kind, name):
    """The resource of that kind and name; a KeyError names what is missing.
    A generated ConfigMap matches its name without kustomize's hash suffix."""
    for r in of_kind(resources, kind):
        n = r["metadata"]["name"]
        if n == name or (kind in ("ConfigMap", "Secret") and re.fullmatch(name + r"-[a-z0-9]{10}", n)):
            return r
    raise KeyError(f"no {kind} {name}")


def service_container(deployment):
    """The container that runs the service (named as its Deployment)."""
    name = deployment["metadata"]["name"]
    for c in deployment["spec"]["template"]["spec"]["containers"]:
        if c["name"] == name:
            return c
    raise KeyError(f"Deployment {name} has no container {name}")


def env_of(resources, container):
    """The container's environment: envFrom ConfigMaps, then env (literal
    values only; valueFrom entries map to None)."""
    env = {}
    for ref in container.get("envFrom", []):
        env.update(named(resources, "ConfigMap", ref["configMapRef"]["name"])["data"])
    for e in container.get("env", []):
        env[e["name"]] = e.get("value")
    return env
