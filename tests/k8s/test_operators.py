"""The Strimzi, KEDA and Prometheus Operator resources have the fields the
pipeline relies on, and agree with the Deployments and with each other:
topic names and sizes, the user's ACLs and Secret, the scalers' groups,
topics and partition cap, the HPA, the PDBs, the ServiceMonitor and the
NetworkPolicies. (Their operators' CRDs are not in kubernetes-validate.)"""
import re

import pytest

import manifests
from manifests import named, of_kind

TOPICS = {"orders", "notifications", "orders.dlq", "notifications.dlq"}
# What each consumer Deployment reads, and which ScaledObject scales it.
CONSUMES = {"processing-service": "orders", "notification-service": "notifications"}


@pytest.fixture(params=manifests.OVERLAYS)
def res(request):
    return manifests.load(request.param)


def group_id(res, deployment):
    return manifests.env_of(res, manifests.service_container(named(res, "Deployment", deployment)))["KAFKA_GROUP_ID"]


def cluster_name(res):
    """The Strimzi cluster every Strimzi resource names, which must be one."""
    names = {r["metadata"]["labels"].get("strimzi.io/cluster")
             for r in res if manifests.group(r) == "kafka.strimzi.io"}
    assert len(names) == 1 and None not in names, f"strimzi.io/cluster labels: {names}"
    return names.pop()


def test_topics_are_the_contracts_with_one_size(res):
    topics = of_kind(res, "KafkaTopic")
    for t in topics:
        assert t["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert set(t["spec"]) <= {"topicName", "partitions", "replicas", "config"}, t["spec"]
    assert {t["spec"]["topicName"] for t in topics} == TOPICS
    sizes = {(t["spec"]["partitions"], t["spec"]["replicas"],
              t["spec"]["config"]["min.insync.replicas"]) for t in topics}
    assert len(sizes) == 1, f"topics differ in size: {sizes}"
    partitions, replicas, min_isr = sizes.pop()
    assert isinstance(partitions, int) and partitions >= 1
    assert isinstance(replicas, int) and 1 <= replicas
    # acks=all must survive one broker down when there is replication.
    assert min_isr <= replicas and (replicas == 1 or min_isr < replicas), (replicas, min_isr)


def test_clients_reach_the_clusters_bootstrap_and_ca(res):
    cluster = cluster_name(res)
    client = named(res, "ConfigMap", "kafka-client")["data"]
    assert client["KAFKA_BOOTSTRAP_SERVERS"].split(":")[0] == f"{cluster}-kafka-bootstrap"
    ca = f"{cluster}-cluster-ca-cert"
    for d in of_kind(res, "Deployment"):
        secrets = {v["secret"]["secretName"] for v in d["spec"]["template"]["spec"]["volumes"] if "secret" in v}
        assert ca in secrets, f"{d['metadata']['name']} does not mount {ca}"
    trig = of_kind(res, "TriggerAuthentication")[0]["spec"]["secretTargetRef"]
    assert {"name": ca, "key": "ca.crt", "parameter": "ca"} in trig


def test_user_has_scram_from_the_mounted_secret_and_only_the_acls_it_needs(res):
    user, = of_kind(res, "KafkaUser")
    auth = user["spec"]["authentication"]
    assert auth["type"] == "scram-sha-512"
    ref = auth["password"]["valueFrom"]["secretKeyRef"]
    for d in of_kind(res, "Deployment"):
        vols = {v["name"]: v for v in d["spec"]["template"]["spec"]["volumes"]}
        assert vols["kafka-credentials"]["secret"]["secretName"] == ref["name"]
        assert ref["key"] in {i["key"] for i in vols["kafka-credentials"]["secret"]["items"]}
    assert named(res, "ConfigMap", "kafka-client")["data"]["KAFKA_SASL_MECHANISMS"] == "SCRAM-SHA-512"
    acls = user["spec"]["authorization"]["acls"]
    assert user["spec"]["authorization"]["type"] == "simple"
    ops = {}
    for a in acls:
        key = (a["resource"]["type"], a["resource"].get("name"), a["resource"].get("patternType"))
        ops[key] = set(a["operations"])
        assert "Create" not in ops[key] and "All" not in ops[key], f"{key}: Strimzi owns the topics"
    for t in ("orders", "notifications"):
        assert {"Read", "Write", "Describe"} <= ops[("topic", t, "literal")]
    for t in ("orders.dlq", "notifications.dlq"):
        assert {"Write", "Describe"} <= ops[("topic", t, "literal")]
    for d in CONSUMES:
        assert "Read" in ops[("group", group_id(res, d), "literal")]
    # TRANSACTIONAL_ID defaults to <group>-<hostname>.
    txn = ("transactionalId", group_id(res, "processing-service") + "-", "prefix")
    assert {"Write", "Describe"} <= ops[txn]


@pytest.mark.parametrize("deployment", sorted(CONSUMES))
def test_scaled_object_scales_its_group_on_lag_up_to_the_partitions(res, deployment):
    so = next(s for s in of_kind(res, "ScaledObject")
              if s["spec"]["scaleTargetRef"]["name"] == deployment)
    assert so["apiVersion"] == "keda.sh/v1alpha1"
    named(res, "Deployment", deployment)
    trigger, = so["spec"]["triggers"]
    meta = trigger["metadata"]
    assert trigger["type"] == "kafka"
    # KEDA reads trigger metadata as strings only.
    assert all(isinstance(v, str) for v in meta.values()), meta
    assert meta["consumerGroup"] == group_id(res, deployment)
    topic = next(t for t in of_kind(res, "KafkaTopic") if t["spec"]["topicName"] == meta["topic"])
    assert meta["topic"] == CONSUMES[deployment]
    assert so["spec"]["maxReplicaCount"] == topic["spec"]["partitions"]
    assert 1 <= so["spec"]["minReplicaCount"] <= so["spec"]["maxReplicaCount"]
    assert meta["allowIdleConsumers"] == "false"
    assert int(meta["lagThreshold"]) > 0
    assert meta["offsetResetPolicy"] == "earliest"  # KAFKA_AUTO_OFFSET_RESET's default
    assert meta["bootstrapServers"] == named(res, "ConfigMap", "kafka-client")["data"]["KAFKA_BOOTSTRAP_SERVERS"]
    auth = named(res, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    params = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
    assert {"sasl", "username", "password", "tls", "ca"} <= set(params)
    user, = of_kind(res, "KafkaUser")
    assert params["password"]["name"] == user["spec"]["authentication"]["password"]["valueFrom"]["secretKeyRef"]["name"]


def test_order_service_scales_on_cpu_it_requests(res):
    hpa, = of_kind(res, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "order-service"}
    metric, = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu" and metric["resource"]["target"]["type"] == "Utilization"
    c = manifests.service_container(named(res, "Deployment", "order-service"))
    assert "cpu" in c["resources"]["requests"], "a CPU utilisation target needs a CPU request"
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_every_deployment_has_a_pdb_that_selects_it(res):
    pdbs = of_kind(res, "PodDisruptionBudget")
    for d in of_kind(res, "Deployment"):
        labels = d["spec"]["template"]["metadata"]["labels"]
        match = [p for p in pdbs if p["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(match) == 1, f"{d['metadata']['name']}: {len(match)} PDBs"


def test_service_monitor_scrapes_metrics_of_all_three(res):
    sm, = of_kind(res, "ServiceMonitor")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    sel = sm["spec"]["selector"]["matchLabels"]
    services = [s for s in of_kind(res, "Service") if sel.items() <= s["metadata"]["labels"].items()]
    endpoint, = sm["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    scraped = set()
    for s in services:
        assert endpoint["port"] in {p["name"] for p in s["spec"]["ports"]}
        for d in of_kind(res, "Deployment"):
            if s["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items():
                scraped.add(d["metadata"]["name"])
    assert scraped == set(manifests.SERVICES)


def test_network_policies_expose_only_order_service(res):
    pods = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in of_kind(res, "Deployment")}

    def selects(policy, labels):
        return policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    policies = of_kind(res, "NetworkPolicy")
    for name, labels in pods.items():
        applying = [p for p in policies if selects(p, labels)]
        assert any("Ingress" in p["spec"]["policyTypes"] for p in applying), f"{name}: ingress not restricted"
        open_to_all = [p for p in applying for rule in p["spec"].get("ingress", []) if "from" not in rule]
        assert bool(open_to_all) == (name == "order-service"), f"{name}: open ingress {open_to_all}"
    # Nothing else may reach a pod except from Prometheus's namespace.
    for p in policies:
        for rule in p["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                assert set(peer) == {"namespaceSelector"}, peer
                assert re.fullmatch(r"monitoring", peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"])
