#!/usr/bin/env python3
"""Generate the addon's README.rst from its readme/*.md fragments, the OCA way.

The layout follows OCA's `oca-gen-addon-readme` (title, badges, description,
table of contents, the fragments' sections, bug tracker, credits); that tool is
not on PyPI, so this small script does the same for the Markdown the fragments
use: paragraphs, bullet and numbered lists, *emphasis*, **strong**, `code` and
[links](url). Standard library only.

    python3 scripts/gen_addon_readme.py            # rewrite README.rst
    python3 scripts/gen_addon_readme.py --check    # exit 1 when it is stale
    python3 scripts/gen_addon_readme.py --output F # write elsewhere
"""

import argparse
import ast
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDON = "wave_accounting_integration"

# The fragments OCA knows, in its order, with the section title each gets.
SECTIONS = (
    ("INSTALL.md", "Installation"),
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
    ("ROADMAP.md", "Known issues / Roadmap"),
    ("HISTORY.md", "Changelog"),
)
GENERATED_NOTE = """..
   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
   !! This file is generated from readme/*.md by              !!
   !! scripts/gen_addon_readme.py: changes will be overwritten !!
   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
"""
LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
UNDERLINES = "~^\"'`."


def inline(text):
    """Markdown inline markup to reStructuredText."""
    text = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r"`\1 <\2>`__", text)
    # `code` -> ``code`` (leave the link syntax made above alone)
    text = re.sub(r"(?<![`\w])`([^`<]+)`(?![`_])", r"``\1``", text)
    # __strong__ -> **strong**, _emphasis_ -> *emphasis*
    text = re.sub(r"(?<!\w)__(\S[^_]*?)__(?!\w)", r"**\1**", text)
    text = re.sub(r"(?<![\w*])_(\S[^_]*?)_(?![\w*])", r"*\1*", text)
    return text


def markdown_to_rst(markdown):
    """Convert the Markdown of one fragment (the subset described above)."""
    out = []
    previous = "blank"  # blank, text or item
    for raw in markdown.strip("\n").splitlines():
        line = raw.rstrip()
        if not line.strip():
            out.append("")
            previous = "blank"
            continue
        heading = HEADING.match(line)
        if heading:
            title = inline(heading.group(2))
            level = min(len(heading.group(1)), len(UNDERLINES)) - 1
            if previous != "blank":
                out.append("")
            out.extend([title, UNDERLINES[level] * len(title), ""])
            previous = "blank"
            continue
        item = LIST_ITEM.match(line)
        if item and previous == "text":
            out.append("")  # reStructuredText needs a blank line before a list
        if item:
            indent, marker, body = item.groups()
            marker = "-" if marker in "-*+" else marker.replace(")", ".")
            out.append(f"{indent}{marker} {inline(body)}")
            previous = "item"
        else:
            out.append(inline(line))
            previous = "text" if previous != "item" or not raw.startswith(" ") else "item"
    return "\n".join(out).strip("\n") + "\n"


def title(text, char, overline=False):
    bar = char * len(text)
    return f"{bar}\n{text}\n{bar}\n" if overline else f"{text}\n{bar}\n"


def read_fragment(readme_dir, name):
    path = os.path.join(readme_dir, name)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        content = handle.read()
    return markdown_to_rst(content) if content.strip() else None


def generate(addon_dir):
    with open(os.path.join(addon_dir, "__manifest__.py"), encoding="utf-8") as handle:
        manifest = ast.literal_eval(handle.read())
    readme_dir = os.path.join(addon_dir, "readme")
    license_badge = manifest["license"].replace("-", "--")
    parts = [
        title(manifest["name"], "=", overline=True),
        GENERATED_NOTE,
        "|badge1| |badge2|\n",
        f".. |badge1| image:: https://img.shields.io/badge/licence-{license_badge}-blue.png\n"
        f"    :alt: License: {manifest['license']}\n"
        f".. |badge2| image:: https://img.shields.io/badge/version-{manifest['version']}-"
        "lightgrey.png\n"
        f"    :alt: Version {manifest['version']}\n",
        f"**{manifest['summary']}**\n",
        read_fragment(readme_dir, "DESCRIPTION.md") or "",
        "**Table of contents**\n\n.. contents::\n   :local:\n",
    ]
    for name, section in SECTIONS:
        body = read_fragment(readme_dir, name)
        if body:
            parts.append(title(section, "=") + "\n" + body)
    website = manifest.get("website", "").rstrip("/")
    parts.append(
        title("Bug Tracker", "=") + "\n"
        f"Bugs are tracked on `GitHub Issues <{website}/issues>`_.\n"
        "In case of trouble, please check there if your issue has already been reported.\n"
    )
    credits = title("Credits", "=") + "\n" + title("Authors", "-") + "\n"
    credits += "".join(f"- {author.strip()}\n" for author in manifest["author"].split(","))
    for name, section in (("CREDITS.md", "Other credits"), ("CONTRIBUTORS.md", "Contributors")):
        body = read_fragment(readme_dir, name)
        if body:
            credits += "\n" + title(section, "-") + "\n" + body
    parts.append(credits)
    return "\n".join(part.rstrip("\n") + "\n" for part in parts if part)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addon-dir", default=os.path.join(ROOT, ADDON))
    parser.add_argument("--output", help="where to write (default: the addon's README.rst)")
    parser.add_argument("--check", action="store_true", help="only check README.rst is current")
    args = parser.parse_args(argv)
    content = generate(args.addon_dir)
    target = args.output or os.path.join(args.addon_dir, "README.rst")
    if args.check:
        current = open(target, encoding="utf-8").read() if os.path.exists(target) else ""
        if current != content:
            print(f"{target} is out of date: run python3 scripts/gen_addon_readme.py")
            return 1
        return 0
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
