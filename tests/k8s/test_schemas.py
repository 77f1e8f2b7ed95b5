"""Every Kubernetes resource of each overlay is valid against Kubernetes'
own OpenAPI schemas (kubernetes-validate, strict: no unknown field), for the
oldest version we support and the newest the package knows. The operators'
resources (Strimzi, KEDA, Prometheus Operator) have no schema there: they
are checked by test_operators.py; anything else is an error."""
import kubernetes_validate
import pytest

import manifests

VERSIONS = ("1.29.0", kubernetes_validate.latest_version())


@pytest.mark.parametrize("overlay", manifests.OVERLAYS)
@pytest.mark.parametrize("version", VERSIONS)
def test_core_resources_match_the_kubernetes_schemas(overlay, version):
    resources = manifests.load(overlay)
    core = [r for r in resources if manifests.group(r) not in manifests.OPERATOR_GROUPS]
    assert len(core) >= 15, f"{overlay}: only {len(core)} core resources"
    errors = []
    for r in core:
        try:
            kubernetes_validate.validate(r, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            errors.append(f"{r['kind']}/{r['metadata']['name']}: {'.'.join(map(str, e.path))}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            errors.append(f"{r['kind']}/{r['metadata']['name']}: {e.message}")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("overlay", manifests.OVERLAYS)
def test_every_resource_is_known(overlay):
    known = {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler",
             "NetworkPolicy", "ConfigMap", "KafkaTopic", "KafkaUser", "ScaledObject",
             "TriggerAuthentication", "ServiceMonitor"}
    kinds = {r["kind"] for r in manifests.load(overlay)}
    assert kinds == known, f"unexpected {kinds - known}, missing {known - kinds}"
