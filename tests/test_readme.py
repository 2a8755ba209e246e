"""The README is the front door: short, starting with the two commands, and every link
into the repository (docs/ and the rest) names a file or folder that exists, with the
heading it points at."""

import re
from pathlib import Path

import pytest

from shop import ROOT

README = Path(ROOT) / "README.md"
DOCS = sorted((Path(ROOT) / "docs").glob("*.md"))
#: A Markdown link or image: [text](target) or ![alt](target).
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """The #fragments GitHub gives the headings of a Markdown file."""
    found = set()
    fence = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def local_links(path: Path) -> list[str]:
    """The links of a Markdown file that point into the repository (not http, not mailto)."""
    return [t for t in LINK.findall(path.read_text()) if not re.match(r"[a-z]+:", t)]


def test_the_readme_fits_in_200_lines():
    assert len(README.read_text().splitlines()) <= 200


def test_the_readme_starts_with_make_run_and_make_test():
    lines = README.read_text().splitlines()
    first_block = lines[lines.index("```sh") + 1 : lines.index("```")]
    assert lines.index("```sh") <= 3, "the commands come right after the title"
    assert [line.split()[:2] for line in first_block] == [["make", "run"], ["make", "test"]]


def test_the_readme_links_every_manual_in_docs():
    linked = {t.split("#")[0] for t in local_links(README)}
    assert {f"docs/{doc.name}" for doc in DOCS} <= linked


@pytest.mark.parametrize("doc", [README, *DOCS], ids=lambda p: p.name)
def test_every_link_into_the_repository_resolves(doc):
    for target in local_links(doc):
        file, _, fragment = target.partition("#")
        where = (doc.parent / file).resolve() if file else doc
        assert where.exists(), f"{doc.name} links to {target}, which does not exist"
        if fragment:
            assert fragment in anchors(where), f"{doc.name}: no heading #{fragment} in {file}"
