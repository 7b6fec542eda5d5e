"""The addon's README.rst is generated from readme/*.md and must stay in sync."""

import io
import os
import subprocess
import sys

import docutils.core
from harness import ROOT

ADDON_DIR = os.path.join(ROOT, "wave_accounting_integration")
GENERATOR = os.path.join(ROOT, "scripts", "gen_addon_readme.py")


def _generate(output):
    subprocess.run(
        [sys.executable, GENERATOR, "--output", output], check=True, capture_output=True, cwd=ROOT
    )
    with open(output, encoding="utf-8") as handle:
        return handle.read()


def test_readme_rst_is_in_sync_with_readme_fragments(tmp_path):
    regenerated = _generate(str(tmp_path / "README.rst"))
    with open(os.path.join(ADDON_DIR, "README.rst"), encoding="utf-8") as handle:
        committed = handle.read()
    assert committed == regenerated, (
        "wave_accounting_integration/README.rst is stale: run python3 scripts/gen_addon_readme.py"
    )


def test_readme_carries_every_fragment_and_is_valid_rst(tmp_path):
    readme = _generate(str(tmp_path / "README.rst"))
    for name in sorted(os.listdir(os.path.join(ADDON_DIR, "readme"))):
        with open(os.path.join(ADDON_DIR, "readme", name), encoding="utf-8") as handle:
            first_line = handle.readline().strip().lstrip("-0123456789. ")
        # The first words of each fragment, past any inline markup, reach the README.
        assert first_line.split("*")[0].split("`")[0] in readme, name
    warnings = io.StringIO()
    docutils.core.publish_doctree(
        readme, settings_overrides={"warning_stream": warnings, "report_level": 2}
    )
    assert warnings.getvalue() == ""
