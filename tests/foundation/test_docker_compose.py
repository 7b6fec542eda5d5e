"""docker-compose.yml cannot start here (no Docker engine): check it agrees with the addon."""

import ast
import configparser
import os

import yaml
from harness import ROOT


def _load():
    with open(os.path.join(ROOT, "docker-compose.yml")) as handle:
        return yaml.safe_load(handle)


def test_services_and_images():
    services = _load()["services"]
    # The default profile (services without a profile); "scale": tests/scale.
    assert {name for name, s in services.items() if not s.get("profiles")} == {
        "db",
        "odoo",
        "wave-sandbox",
    }
    assert services["odoo"]["image"] == "odoo:18"
    assert services["db"]["image"] == "postgres:16"
    assert "db" in services["odoo"]["depends_on"]


def test_addon_and_config_are_mounted_where_the_config_says():
    odoo = _load()["services"]["odoo"]
    mounts = dict(volume.split(":")[:2] for volume in odoo["volumes"] if volume.startswith("./"))
    assert (
        mounts["./wave_accounting_integration"] == "/mnt/extra-addons/wave_accounting_integration"
    )
    conf_path = mounts["./docker/odoo.conf"]
    assert conf_path == "/etc/odoo/odoo.conf"
    assert conf_path in odoo["command"]
    for host_path in mounts:
        assert os.path.exists(os.path.join(ROOT, host_path)), host_path

    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, "docker", "odoo.conf"))
    options = config["options"]
    assert "/mnt/extra-addons" in options["addons_path"].split(",")
    assert "queue_job" in options["server_wide_modules"].split(",")
    assert int(options["workers"]) >= 2
    assert options["db_host"] == "db"
    channels = config["queue_job"]["channels"]
    for channel in (
        "root.wave.webhook",
        "root.wave.inbound",
        "root.wave.outbound",
        "root.wave.import",
    ):
        assert channel in channels


def test_queue_job_and_python_dependencies_are_installed_by_the_service():
    odoo = _load()["services"]["odoo"]
    with open(os.path.join(ROOT, "requirements-runtime.txt")) as handle:
        runtime = handle.read()
    with open(os.path.join(ROOT, "wave_accounting_integration", "__manifest__.py")) as handle:
        manifest = ast.literal_eval(handle.read())
    assert "odoo-addon-queue-job" in runtime
    for package in manifest["external_dependencies"]["python"]:
        assert package in runtime, package
    assert "queue_job" in manifest["depends"]
    assert "requirements-runtime.txt" in odoo["command"]


def test_sandbox_service_runs_the_sandbox_package():
    sandbox = _load()["services"]["wave-sandbox"]
    assert "python -m wave_sandbox" in sandbox["command"]
    assert "./tests:/project/tests:ro" in sandbox["volumes"]
    assert os.path.isdir(os.path.join(ROOT, "tests", "wave_sandbox"))
