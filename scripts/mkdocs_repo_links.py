"""mkdocs hook: a page may include a Markdown file from the repository root (``SECURITY.md`` in
``docs/security.md``) with a line ``--8<-- "SECURITY.md"``. Its links are relative to the
root, so this hook includes it itself and turns ``docs/x.md`` links into the site's ``x.md``
(pymdownx.snippets would include it with the root's links, which do not resolve on the site).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_INCLUDE = re.compile(r'^--8<-- "([\w.-]+\.md)"$', re.M)  # a root file: no "/" in the name
_ROOT_DOCS_LINK = re.compile(r"\]\(docs/")


def include_root_files(markdown: str) -> str:
    """``markdown`` with each root-file include replaced by that file, links rewritten."""

    def expand(match: re.Match[str]) -> str:
        text = (ROOT / match.group(1)).read_text("utf-8")
        return _ROOT_DOCS_LINK.sub("](", text)

    return _INCLUDE.sub(expand, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs event: expand root-file includes before the page is converted."""
    return include_root_files(markdown)
