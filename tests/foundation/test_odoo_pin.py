"""One tested Odoo 18.0 / queue_job pair, named alike everywhere it is installed.

README's "Tested together" line names the pair; the CI workflow and the bootstrap
(scripts/env.sh) download that Odoo build's official source archive, requirements.txt
(tests, CI) and requirements-runtime.txt (Docker) pin that queue_job, the Docker services
install requirements-runtime.txt, and the "queue_job / Odoo pair" section repeats it.
Reads the files only: nothing is downloaded.
"""

import re

import yaml
from harness import ROOT
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

QUEUE_JOB = "odoo-addon-queue-job"
# Odoo's official nightly source archive of a build: .../18.0/nightly/src/odoo_18.0.<date>.tar.gz
NIGHTLY = re.compile(r"https://nightly\.odoo\.com/18\.0/nightly/src/odoo_18\.0\.(\d{8})\.tar\.gz")


def readme():
    return (ROOT / "README.md").read_text()


def readme_pair():
    """``(odoo build, queue_job version)`` of README's "Tested together" line."""
    found = re.search(
        r"\*\*Tested together\*\*: Odoo 18\.0 build (18\.0-\d{8}) .*?"
        r"`queue_job` (18\.0\.\d+\.\d+\.\d+)",
        readme(),
        re.DOTALL,
    )
    assert found, 'README.md has no "**Tested together**: Odoo 18.0 build ... queue_job ..." line'
    return found.group(1), found.group(2)


def build_of(url):
    found = NIGHTLY.fullmatch(url)
    assert found, f"{url} is not Odoo's official 18.0 nightly source archive"
    return "18.0-" + found.group(1)


def test_ci_workflow_installs_the_tested_odoo_build():
    build, _queue_job = readme_pair()
    text = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    steps = yaml.safe_load(text)["jobs"]["test"]["steps"]
    odoo_steps = [step for step in steps if "ODOO_SOURCE_URL" in (step.get("env") or {})]
    assert len(odoo_steps) == 1, "one step installs Odoo, from ODOO_SOURCE_URL"
    step = odoo_steps[0]
    # overridable by a repository variable, the tested archive by default
    default = re.fullmatch(
        r"\$\{\{ vars\.ODOO_SOURCE_URL \|\| '([^']+)' \}\}", step["env"]["ODOO_SOURCE_URL"]
    )
    assert default, step["env"]["ODOO_SOURCE_URL"]
    assert build_of(default.group(1)) == build
    assert '"$ODOO_SOURCE_URL"' in step["run"], step["run"]
    # no other Odoo source (a branch head moves every day) anywhere in the workflow
    assert "github.com/odoo/odoo/archive" not in text
    assert len(NIGHTLY.findall(text)) == 1
    # queue_job comes from requirements.txt (make test), never installed apart
    installs = [line for line in text.splitlines() if "pip install" in line]
    assert not [line for line in installs if "queue" in line.lower()], installs


def test_bootstrap_downloads_the_tested_odoo_build():
    build, _queue_job = readme_pair()
    text = (ROOT / "scripts" / "env.sh").read_text()
    default = re.search(r'^ODOO_SOURCE_URL="\$\{ODOO_SOURCE_URL:-([^}"]+)\}"$', text, re.M)
    assert default, "scripts/env.sh: ODOO_SOURCE_URL with the tested archive as its default"
    assert build_of(default.group(1)) == build
    assert re.search(rf'^ODOO_TESTED_BUILD="{re.escape(build)}"$', text, re.M)
    assert "github.com/odoo/odoo/archive" not in text


def test_requirement_files_pin_the_tested_queue_job():
    _build, queue_job = readme_pair()
    for name in ("requirements.txt", "requirements-runtime.txt"):
        pins = [
            Requirement(line)
            for line in (ROOT / name).read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        pins = [req for req in pins if req.name.replace("_", "-") == QUEUE_JOB]
        assert len(pins) == 1, name
        assert pins[0].specifier == SpecifierSet(f"=={queue_job}"), (name, str(pins[0]))


def test_docker_services_install_the_pinned_queue_job():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    odoo_services = {
        name: service
        for name, service in compose["services"].items()
        if str(service.get("image", "")).startswith("odoo:")
    }
    assert odoo_services
    for name, service in odoo_services.items():
        assert "-r /mnt/project/requirements-runtime.txt" in service["command"], name
        assert (
            "./requirements-runtime.txt:/mnt/project/requirements-runtime.txt:ro"
            in (service["volumes"])
        ), name


def test_readme_production_section_names_the_same_pair():
    build, queue_job = readme_pair()
    text = readme()
    section = text[text.index("### The queue_job / Odoo pair") :]
    assert f"**queue_job {queue_job} with Odoo 18.0 build {build}**" in section[:400]
    # the archive the README names is the tested build's
    assert {"18.0-" + date for date in NIGHTLY.findall(text)} == {build}
