"""The documentation's links resolve: every relative link of README.md, docs/*.md,
infra/k8s/README.md and benchmarks/*.md points to a file that exists, and every ``#anchor``
to a heading of its target (GitHub's slugs). README stays a front door: at most 150 lines,
and its figures block is what ``make bench`` writes from the committed results.json."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from benchmarks import report

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(
    [ROOT / "README.md", ROOT / "infra" / "k8s" / "README.md"]
    + list((ROOT / "docs").glob("*.md"))
    + list((ROOT / "benchmarks").glob("*.md"))
)
MARKDOWN = MarkdownIt("commonmark").enable("table")


def tokens(path: Path) -> list[Token]:
    return MARKDOWN.parse(path.read_text(encoding="utf-8"))


def inline_text(token: Token) -> str:
    """A heading's text as GitHub renders it: text and code spans, no markup."""
    return "".join(child.content for child in token.children or () if child.type in ("text", "code_inline"))


def slug(text: str) -> str:
    """GitHub's heading anchor: lowercase, punctuation dropped except '-' and '_', spaces to '-'."""
    kept = "".join(ch for ch in text.strip().lower() if ch in " -_" or unicodedata.category(ch)[0] in ("L", "N", "M"))
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    stream = tokens(path)
    for opening, inline in zip(stream, stream[1:]):
        if opening.type == "heading_open":
            base = slug(inline_text(inline))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[str]:
    found = []
    for token in tokens(path):
        for child in token.children or ():
            if child.type == "link_open":
                found.append(str(child.attrs["href"]))
            elif child.type == "image":
                found.append(str(child.attrs["src"]))
    return found


def test_the_pages_are_found():
    names = {page.relative_to(ROOT).as_posix() for page in PAGES}
    assert {"README.md", "docs/configuration.md", "infra/k8s/README.md", "benchmarks/NOTES.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_relative_links_and_anchors_resolve(page: Path):
    broken = []
    for href in links(page):
        parts = urlsplit(href)
        if parts.scheme or href.startswith("//"):
            continue  # http(s), mailto: not checked here
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not target.exists():
            broken.append(f"{href}: no file {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
        elif parts.fragment and target.suffix == ".md" and unquote(parts.fragment) not in anchors(target):
            broken.append(f"{href}: no heading #{parts.fragment} in {target.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: broken links:\n" + "\n".join(broken)


def test_slugs_follow_github():
    assert slug("What happens to a file") == "what-happens-to-a-file"
    assert slug("Configuration: `.env`") == "configuration-env"
    assert slug("Scale out with Kubernetes (Helm)") == "scale-out-with-kubernetes-helm"
    assert slug("a_b - c") == "a_b---c"


def test_readme_is_a_front_door():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines (at most 150): move details into docs/"


def test_readme_figures_are_what_make_bench_writes_from_results_json():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    expected = report.readme_figures(json.loads(report.RESULTS_JSON.read_text()))
    assert readme.count(report.FIGURES_BEGIN) == 1 and readme.count(report.FIGURES_END) == 1
    block = readme[readme.index(report.FIGURES_BEGIN) : readme.index(report.FIGURES_END) + len(report.FIGURES_END)]
    assert block == expected, (
        "README's figures differ from benchmarks/results.json: run `make bench`, or paste report.readme_figures"
    )


def test_readme_figures_block_is_rewritten_in_place(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.FIGURES_BEGIN}\nold\n{report.FIGURES_END}\nafter\n")
    monkeypatch.setattr(report, "README_MD", readme)
    results = json.loads(report.RESULTS_JSON.read_text())
    report.write_readme_figures(results)
    assert readme.read_text() == f"intro\n{report.readme_figures(results)}\nafter\n"
