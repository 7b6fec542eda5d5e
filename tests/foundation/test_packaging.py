"""The addon packaged the OCA way: a wheel built by whool, installed with pip,
then installed by Odoo from the wheel's location into a new database."""

import glob
import os
import sys
from importlib.metadata import version

from harness import ROOT, ScratchDatabase, harness_env, psql, run_checked
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ADDON = "wave_accounting_integration"
# The build tools live in a venv of their own, kept under .cache so that later
# runs skip the download (the machine's python3 never gets them).
BUILD_VENV = os.path.join(ROOT, ".cache", "whool-venv")
BUILD_TOOLS = ("whool>=1.3,<2", "build>=1.0")
# The queue_job releases tested with this addon (the range of requirements.txt).
QUEUE_JOB_RANGE = ">=18.0.3.1.1,<18.0.3.1.3"

WHERE_LOADED = f"""
from odoo.modules.module import get_module_path
print("LOADED_FROM=" + get_module_path("{ADDON}"))
"""


def _venv_python(venv):
    return os.path.join(venv, "bin", "python")


def _make_venv(venv, cwd):
    # --system-site-packages: Odoo, queue_job, requests, rapidfuzz and prometheus_client
    # come from the machine's python3, as they would on a server where Odoo is installed.
    # --without-pip: the machine's pip (seen through the system site-packages)
    # installs into the venv; bootstrapping a pip of its own takes minutes.
    run_checked(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], cwd=cwd
    )
    return _venv_python(venv)


def _build_python(cwd):
    python = _venv_python(BUILD_VENV)
    stamp = os.path.join(BUILD_VENV, "tools.ok")
    if not os.path.exists(stamp):
        _make_venv(BUILD_VENV, cwd)
        run_checked([python, "-m", "pip", "install", "-q", *BUILD_TOOLS], cwd=cwd)
        with open(stamp, "w", encoding="utf-8") as handle:
            handle.write("\n".join(BUILD_TOOLS))
    return python


def _site_packages(python, cwd):
    return run_checked(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=cwd
    ).stdout.strip()


def _odoo_addons_dirs():
    """Odoo's own addons and the folder pip installed queue_job into."""
    import odoo
    import odoo.addons.queue_job as queue_job

    return [
        os.path.join(os.path.dirname(os.path.abspath(odoo.__file__)), "addons"),
        os.path.dirname(os.path.dirname(os.path.abspath(queue_job.__file__))),
    ]


def test_wheel_builds_installs_and_odoo_installs_it(tmp_path):
    work = str(tmp_path)
    build_python = _build_python(work)
    dist = os.path.join(work, "dist")
    run_checked(
        [
            build_python,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            dist,
            os.path.join(ROOT, ADDON),
        ],
        cwd=work,
    )
    wheels = glob.glob(os.path.join(dist, f"odoo_addon_{ADDON}-18.0.*-py3-none-any.whl"))
    assert len(wheels) == 1, os.listdir(dist)

    # A fresh venv; --no-index: every declared dependency (odoo 18.0, queue_job in
    # the tested range, requests, rapidfuzz, prometheus_client) must be satisfied by
    # what is installed, so a wrong or missing requirement fails here.
    python = _make_venv(os.path.join(work, "venv"), work)
    run_checked([python, "-m", "pip", "install", "-q", "--no-index", wheels[0]], cwd=work)
    requires = run_checked(
        [
            python,
            "-c",
            "from importlib.metadata import requires; "
            f"print('\\n'.join(requires('odoo-addon-{ADDON}')))",
        ],
        cwd=work,
    ).stdout.split("\n")
    requires = {Requirement(line).name: Requirement(line) for line in requires if line.strip()}
    assert set(requires) == {
        "odoo",
        "odoo-addon-queue_job",
        "requests",
        "rapidfuzz",
        "prometheus_client",
    }, requires
    assert requires["odoo-addon-queue_job"].specifier == SpecifierSet(QUEUE_JOB_RANGE)
    assert version("odoo") in requires["odoo"].specifier  # the Odoo 18.0 installed here

    site = _site_packages(python, work)
    imported = run_checked(
        [python, "-c", f"import odoo.addons.{ADDON} as m; print(m.__file__)"], cwd=work
    ).stdout.strip()
    assert imported.startswith(os.path.join(site, "odoo", "addons", ADDON) + os.sep), imported
    assert not os.path.realpath(imported).startswith(os.path.realpath(ROOT) + os.sep), imported

    # Odoo installs the addon from the venv: the project folder is not on the
    # addons path (the command line replaces the configuration's).
    addons_path = ",".join([os.path.join(site, "odoo", "addons"), *_odoo_addons_dirs()])
    conf = harness_env("WAVE_ODOO_CONF")
    common = ["-c", conf, f"--addons-path={addons_path}", "--log-level=warn"]
    with ScratchDatabase(harness_env("WAVE_BASE_DB")) as db:
        run_checked(
            [python, "-m", "odoo", *common, "-d", db, "-i", ADDON, "--stop-after-init"],
            cwd=work,
        )
        state = psql(db, f"SELECT state FROM ir_module_module WHERE name = '{ADDON}'")
        assert state == "installed"
        shell = run_checked(
            [python, "-m", "odoo", "shell", *common, "-d", db, "--no-http"],
            cwd=work,
            input_text=WHERE_LOADED,
        )
        loaded = [line for line in shell.stdout.splitlines() if line.startswith("LOADED_FROM=")]
        assert loaded == [f"LOADED_FROM={os.path.join(site, 'odoo', 'addons', ADDON)}"], (
            shell.stdout[-2000:]
        )
