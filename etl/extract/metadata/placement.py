"""Where an element stands on the page: in the story, in a sentence, or in another block.

Dates and bylines count only where they describe this article: not in navigation, asides,
footers, comment threads or teasers of other stories, and a <time> not inside a sentence.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from etl.extract.metadata.text import clean_text

_PUBLISHED_ROLE = re.compile(r"publi|posted|pubdate|created|submitted", re.I)
_UPDATED = re.compile(r"updat|modif|edited|aktualisier|actualiz|actualis|g[uü]ncel|revis", re.I)
# A class/id word that starts a block of other stories or of readers' comments. Whole words
# only: layout classes such as "has-sidebar" or "sticky-sidebar-parent" wrap the article.
_SKIP_REGIONS = re.compile(
    r"(?:^|\s)(?:related|teasers?|comments?|comment-?list|recommend\w*|promo|newsletter|"
    r"breadcrumbs?|more-?stories)(?:$|\s|[-_](?:list|area|box|items?|posts?|articles?|"
    r"section|block|wrapper|container)\b)", re.I)
_BLOCK_TAGS = {"p", "li", "td", "dd", "div", "blockquote", "figcaption", "section", "header",
               "article", "main", "body", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
_PROSE_TAGS = {"p", "li", "td", "dd", "blockquote", "figcaption"}


# Class/id words of an element that holds the article's date or byline.
DATE_ROLE = re.compile(
    r"date|datum|publi|posted|pubdate|created|submitted|timestamp|byline|meta|tarih|fecha|"
    r"(?:^|[\s_-])(?:time|zeit|info|data)(?:$|[\s_-])", re.I)


def attrs_of(el: Any) -> str:
    return f"{el.get('class', '')} {el.get('id', '')} {el.get('itemprop', '')}"


def updated_only(el: Any) -> bool:
    """Marked as an update stamp and not also as the publication ("published updated")."""
    attrs = attrs_of(el)
    return bool(_UPDATED.search(attrs)) and not _PUBLISHED_ROLE.search(attrs)


# Compiled once: el.xpath(str) parses the expression again on every call.
_IN_ARTICLE = etree.XPath("ancestor::article or ancestor::header or ancestor::main")


def in_article(el: Any) -> bool:
    return bool(_IN_ARTICLE(el))


def outside_story(el: Any) -> bool:
    """In navigation, an aside, a footer, comments or a teaser block: other stories' dates."""
    for anc in el.iterancestors():
        if anc.tag in ("nav", "aside", "footer"):
            return True
        if anc.tag not in ("html", "body") and _SKIP_REGIONS.search(attrs_of(anc)):
            return True
    return False


def _in_prose(el: Any) -> bool:
    """Inside a sentence: the nearest block holds much more text than the element itself.
    A <time> there names an event ("the vote on <time>Friday</time>"), not the article."""
    own = len(clean_text(el.text_content()))
    for anc in el.iterancestors():
        if anc.tag in _BLOCK_TAGS:
            if anc.tag not in _PROSE_TAGS or DATE_ROLE.search(attrs_of(anc)):
                return False
            return len(clean_text(anc.text_content())) > max(3 * own, own + 60)
    return False


def publication_time(el: Any) -> bool:
    """A <time> (or hAtom <abbr title>) that dates the article."""
    if el.tag == "abbr" and not DATE_ROLE.search(attrs_of(el)):
        return False
    if updated_only(el) or outside_story(el):
        return False
    if el.get("pubdate") is not None or "datepublished" in el.get("itemprop", "").lower():
        return True
    parent = el.getparent()
    if parent is not None and updated_only(parent):
        return False
    return not _in_prose(el)
