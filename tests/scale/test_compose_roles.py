"""The scale profile (issue 21), offline: docker-compose.yml, the role confs, the proxy
conf and README's "Running in production" describe the same roles.

No Docker engine here: the files are parsed (YAML, INI, nginx) and compared.
"""

import re

import yaml
from harness import ROOT

from .topology import HTTP_LOAD, JOB_CHANNELS, JOB_CONF, JOB_LOAD, WEB_CONF, read_conf

ROLES = {"odoo-web": WEB_CONF, "odoo-jobs": JOB_CONF}
SHARED_OPTIONS = ("db_host", "db_port", "db_name", "dbfilter", "data_dir", "addons_path")


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def _readme_section():
    text = (ROOT / "README.md").read_text()
    match = re.search(r"^## Running in production\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, "README.md has no 'Running in production' section"
    return match.group(1)


def _mounts(service):
    return dict(v.split(":")[:2] for v in service["volumes"] if v.startswith("./"))


def test_default_profile_is_unchanged():
    services = _compose()
    default = {name for name, s in services.items() if not s.get("profiles")}
    assert default == {"db", "odoo", "wave-sandbox"}
    scale = {name for name, s in services.items() if "scale" in (s.get("profiles") or [])}
    assert scale == {"odoo-web", "odoo-jobs", "scale-proxy"}


def test_each_role_runs_its_own_conf():
    services = _compose()
    for role, conf in ROLES.items():
        service = services[role]
        target = f"/etc/odoo/{conf.name}"
        assert _mounts(service)[f"./docker/{conf.name}"] == target, role
        assert f"odoo -c {target}" in service["command"], role
        assert "odoo-data:/var/lib/odoo" in service["volumes"], role  # one filestore
        assert "requirements-runtime.txt" in service["command"], role
    assert services["odoo-web"]["deploy"]["replicas"] >= 2
    # The job node comes up (and creates the database) before the web nodes.
    assert services["odoo-web"]["depends_on"]["odoo-jobs"]["condition"] == "service_healthy"
    assert "healthcheck" in services["odoo-jobs"]


def test_confs_split_the_work_and_share_the_database():
    web, jobs = read_conf(WEB_CONF)["options"], read_conf(JOB_CONF)["options"]
    for option in SHARED_OPTIONS:
        assert web[option] == jobs[option], option
    # The runner only where queue_job is server-wide, the crons only on the job node.
    assert web["server_wide_modules"] == HTTP_LOAD
    assert jobs["server_wide_modules"] == JOB_LOAD
    assert int(web["max_cron_threads"]) == 0 and int(jobs["max_cron_threads"]) >= 1
    assert int(web["workers"]) >= 1 and int(jobs["workers"]) >= 2
    assert not read_conf(WEB_CONF).has_section("queue_job")
    # Every channel of the addon has a capacity on the job node.
    capacities = dict(item.split(":") for item in JOB_CHANNELS.split(","))
    xml = (ROOT / "wave_accounting_integration" / "data" / "queue_job_data.xml").read_text()
    for name in re.findall(r'<field name="name">(\w+)</field>', xml):
        channel = "root.wave" if name == "wave" else f"root.wave.{name}"
        assert int(capacities[channel]) >= 1, channel
    # The runner never runs more jobs at once than the node has workers.
    assert int(capacities["root"]) <= int(jobs["workers"])


def test_proxy_routes():
    conf = (ROOT / "docker" / "nginx-scale.conf").read_text()
    upstreams = dict(re.findall(r"upstream (\w+) \{\s*server ([\w.:-]+);", conf))
    routes = dict(re.findall(r"location (\S+) \{[^}]*?proxy_pass http://(\w+);", conf, re.S))
    web = read_conf(WEB_CONF)["options"]
    assert upstreams[routes["/websocket"]] == f"odoo-web:{web['gevent_port']}"
    assert upstreams[routes["/wave/webhook"]] == f"odoo-web:{web['http_port']}"
    assert upstreams[routes["/"]] == f"odoo-web:{web['http_port']}"
    proxy = _compose()["scale-proxy"]
    assert _mounts(proxy)["./docker/nginx-scale.conf"] == "/etc/nginx/conf.d/default.conf"


def test_readme_describes_the_same_roles():
    section = _readme_section()
    for role, conf in ROLES.items():
        assert role in section and f"docker/{conf.name}" in section, role
    for option in ("server_wide_modules", "max_cron_threads", "workers"):
        assert f"{option} = {read_conf(WEB_CONF)['options'][option]}" in section, option
        assert f"{option} = {read_conf(JOB_CONF)['options'][option]}" in section, option
    assert f"channels = {JOB_CHANNELS}" in section
    assert f"--load={HTTP_LOAD}" in section and f"--load={JOB_LOAD}" in section
    assert "/websocket" in section and "/wave/webhook" in section
    assert "docker compose --profile scale up scale-proxy" in section
    # The queue_job/Odoo pair: the one requirements-runtime.txt pins.
    runtime = (ROOT / "requirements-runtime.txt").read_text()
    pin = re.search(r"^odoo-addon-queue-job==(\S+)$", runtime, re.M)
    assert pin, "requirements-runtime.txt does not pin queue_job"
    assert f"queue_job {pin.group(1)}" in section
    # The figures come from the bench's result file.
    assert "docs/results/scale-companies.json" in section
