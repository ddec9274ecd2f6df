"""Chat messages as HTML for the admin: Markdown rendered, then sanitised."""

import nh3
from markdown_it import MarkdownIt

# CommonMark with GitHub's tables and strikethrough, as GitLab's chat shows answers. Raw HTML in
# a message is shown as text, never passed through.
_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
# Whatever the renderer lets through is cleaned again; no images, which would be fetched from
# wherever a message points.
_TAGS = nh3.ALLOWED_TAGS - {"img", "area", "map"}
_ATTRIBUTES = {**nh3.ALLOWED_ATTRIBUTES, "code": {"class"}}


def markdown_to_html(text: str) -> str:
    """Safe HTML for a message's Markdown; code blocks keep their indentation."""
    return nh3.clean(_markdown.render(text), tags=_TAGS, attributes=_ATTRIBUTES)
