"""The addon's README.rst is generated from readme/*.md and must stay in sync."""

import io
import os
import re
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


def test_app_store_page_shows_three_screenshots_that_exist():
    """static/description/index.html (the App Store page) and the images it shows."""
    description = os.path.join(ADDON_DIR, "static", "description")
    with open(os.path.join(description, "index.html"), encoding="utf-8") as handle:
        page = handle.read()
    images = re.findall(r'<img[^>]*\ssrc="([^"]+)"', page)
    screenshots = [src for src in images if src.startswith("screenshot_")]
    assert len(set(screenshots)) == 3, images
    for src in images:
        path = os.path.join(description, src)
        assert os.path.isfile(path), src
        with open(path, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n", src  # a PNG, not a placeholder
        assert os.path.getsize(path) > 5000, src  # a real screenshot, not an empty picture
