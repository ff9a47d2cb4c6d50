"""The deployment files under deploy/: valid YAML, `vigil` command lines that the CLI accepts
(command, options and their values), configs that Vigil accepts, and Kubernetes manifests that
fit together (kustomization, mounts, Secrets) without secrets in the config."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer.main
import yaml

from vigil.cli import app
from vigil.config import VigilConfig, load_config, parse_config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
EXAMPLE = DEPLOY / "vigil-cluster.example.yaml"
UNITS = sorted(DEPLOY.rglob("*.service"))
YAML_FILES = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
EXEC_KEYS = {"ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop"}
POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "Pod"}


def rel(path: Path) -> str:
    return str(path.relative_to(DEPLOY))


def load_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def kustomization() -> dict[str, Any]:
    return load_all(KUBERNETES / "kustomization.yaml")[0]


def config_files() -> list[Path]:
    """Vigil config files: the example and the files the kustomization makes ConfigMaps of."""
    generated = [
        KUBERNETES / name
        for generator in kustomization().get("configMapGenerator", [])
        for name in generator.get("files", [])
    ]
    return [EXAMPLE, *generated]


def manifests() -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every Kubernetes object in the files the kustomization lists."""
    for name in kustomization()["resources"]:
        path = KUBERNETES / name
        for doc in load_all(path):
            yield path, doc


def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    if doc.get("kind") == "Pod":
        return doc["spec"]
    if doc.get("kind") in POD_KINDS:
        return doc["spec"]["template"]["spec"]
    return None


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(doc) or {}
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def vigil_command_lines() -> list[tuple[str, list[str]]]:
    """(where, argv) of every command line in the systemd units and manifests that runs vigil."""
    found: list[tuple[str, list[str]]] = []
    for unit in UNITS:
        for number, line in enumerate(unit.read_text(encoding="utf-8").splitlines(), 1):
            key, _, value = line.partition("=")
            if key.strip() in EXEC_KEYS and value.strip():
                argv = shlex.split(value.strip().lstrip("-@:+!"))  # systemd's command prefixes
                found.append((f"{rel(unit)}:{number}", argv))
    for path, doc in manifests():
        for container in containers(doc):
            argv = [*container.get("command", []), *container.get("args", [])]
            found.append((f"{rel(path)}:{doc['metadata']['name']}/{container['name']}", argv))
    return [(where, argv) for where, argv in found
            if argv and PurePosixPath(argv[0]).name == "vigil"]


COMMAND_LINES = vigil_command_lines()


@pytest.mark.parametrize("path", YAML_FILES, ids=rel)
def test_every_yaml_file_parses(path: Path) -> None:
    assert load_all(path), f"{rel(path)} holds no YAML document"


def test_the_deployment_files_are_there() -> None:
    names = {rel(path) for path in [*UNITS, *YAML_FILES]}
    assert {"systemd/vigil-api.service", "systemd/vigil-worker@.service",
            "vigil-cluster.example.yaml", "kubernetes/kustomization.yaml"} <= names
    kinds = {(doc["kind"], doc["metadata"]["name"]) for _, doc in manifests()}
    assert {("Deployment", "vigil-api"), ("Service", "vigil-api"),
            ("PodDisruptionBudget", "vigil-api"), ("Deployment", "vigil-worker")} <= kinds


@pytest.mark.parametrize("where, argv", COMMAND_LINES, ids=[w for w, _ in COMMAND_LINES])
def test_every_vigil_command_line_is_a_real_command_with_real_options(
    where: str, argv: list[str]
) -> None:
    command: Any = typer.main.get_command(app)
    words = argv[1:]
    path = ["vigil"]
    while hasattr(command, "commands") and words and not words[0].startswith("-"):
        name = words.pop(0)
        assert name in command.commands, f"{where}: `{' '.join(path)} {name}` is no command"
        command, path = command.commands[name], [*path, name]
    assert not hasattr(command, "commands"), f"{where}: `{' '.join(path)}` needs a subcommand"
    known = {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]}
    for word in words:
        if word.startswith("-"):
            assert word.split("=")[0] in known, f"{where}: {' '.join(path)} has no option {word}"
    try:  # parses options, their values and required ones exactly as the CLI would
        command.make_context(" ".join(path), list(words))
    except Exception as error:
        pytest.fail(f"{where}: `{shlex.join(argv)}` is refused: {error}")


def test_units_and_manifests_run_the_api_and_the_workers() -> None:
    commands = {tuple(argv[1:2]) for _, argv in COMMAND_LINES}
    assert {("serve",), ("worker",)} <= commands
    assert len([1 for where, _ in COMMAND_LINES if where.startswith("systemd/")]) >= 2
    assert len([1 for where, _ in COMMAND_LINES if where.startswith("kubernetes/")]) >= 2
    worker = (DEPLOY / "systemd" / "vigil-worker@.service").read_text(encoding="utf-8")
    assert "--id %i" in worker  # the instance name is the worker id


@pytest.mark.parametrize("path", config_files(), ids=rel)
def test_config_files_validate_as_a_cluster_without_secrets(path: Path) -> None:
    config = load_config(path)
    assert_cluster_config(config, rel(path))


def test_configmaps_written_as_objects_validate_too() -> None:
    for path, doc in manifests():
        if doc.get("kind") == "ConfigMap":
            for key, text in (doc.get("data") or {}).items():
                if key.endswith((".yaml", ".yml")):
                    config = parse_config(yaml.safe_load(text), f"{rel(path)}:{key}")
                    assert_cluster_config(config, f"{rel(path)}:{key}")


def assert_cluster_config(config: VigilConfig, where: str) -> None:
    assert config.bus.url, f"{where}: bus.url is what makes a cluster"
    assert config.bus.replicas == 3, f"{where}: production JetStream keeps 3 replicas"
    assert config.store.url.startswith("postgresql"), f"{where}: a cluster shares PostgreSQL"
    assert config.store.media_url and config.store.media_url.startswith("s3://")
    assert config.security.key_file is not None, f"{where}: every node needs the same key file"
    assert config.cluster.worker_id is None, f"{where}: worker ids are per process"
    assert urlsplit(config.store.url).password is None, f"{where}: password belongs in a Secret"
    assert config.store.s3.access_key is None and config.store.s3.secret_key is None
    for url in config.bus.url.split(","):
        assert urlsplit(url.strip()).password is None, f"{where}: NATS password in the config"
    assert config.bus.password_file is not None and config.bus.tls_ca is not None, (
        f"{where}: NATS needs Vigil's own user and TLS")


def test_kustomization_lists_every_manifest_and_makes_the_config_map() -> None:
    listed = set(kustomization()["resources"]) | {p.name for p in config_files()[1:]}
    present = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present, f"listed {sorted(listed)}, present {sorted(present)}"
    for path, doc in manifests():
        assert {"apiVersion", "kind", "metadata"} <= set(doc), rel(path)
        assert "namespace" not in doc["metadata"], f"{rel(path)}: keep manifests namespace-free"


def test_pods_mount_the_config_key_and_secrets_where_the_config_says() -> None:
    generated = {gen["name"]: gen["files"] for gen in kustomization()["configMapGenerator"]}
    config = load_config(config_files()[1])
    pods = [(path, doc) for path, doc in manifests() if pod_spec(doc) is not None]
    assert pods
    for path, doc in pods:
        spec = pod_spec(doc) or {}
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        for container in spec["containers"]:
            argv = container["command"]
            where = f"{rel(path)}:{container['name']}"
            mounts = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
            config_path = PurePosixPath(argv[argv.index("--config") + 1])
            volume = mounts[str(config_path.parent)]
            assert config_path.name in generated[volume["configMap"]["name"]], where
            key_dir = str(PurePosixPath(str(config.security.key_file)).parent)
            assert key_dir in mounts, f"{where}: security.key_file is not on a mounted volume"
            for name in ("password_file", "tls_ca"):  # NATS credentials, from a Secret
                directory = str(PurePosixPath(str(getattr(config.bus, name))).parent)
                assert "secret" in mounts[directory], f"{where}: bus.{name} is not a Secret"
            assert str(config.store.media_dir).startswith(
                tuple(path for path, v in mounts.items() if "emptyDir" in v)
            ), f"{where}: store.media_dir must be writable"
            env = {item["name"]: item for item in container.get("env", [])}
            for name in ("PGPASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                assert "secretKeyRef" in env[name].get("valueFrom", {}), f"{where}: {name}"
            assert container["resources"]["requests"].keys() >= {"cpu", "memory"}, where
        secrets = {v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v}
        assert "vigil-key" in secrets, f"{rel(path)}: the camera key comes from a Secret"


def test_the_api_is_probed_and_the_units_use_the_example_s_paths() -> None:
    api = next(doc for _, doc in manifests()
               if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "vigil-api")
    assert api["spec"]["replicas"] >= 2
    container = pod_spec(api)["containers"][0]  # type: ignore[index]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz", probe
    units = "\n".join(unit.read_text(encoding="utf-8") for unit in UNITS)
    example = load_config(EXAMPLE)
    assert f"AssertPathExists={example.security.key_file}" in units
    assert "--config /etc/vigil/cluster.yaml" in units
