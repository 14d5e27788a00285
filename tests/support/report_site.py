"""Two local file sources whose ingest gives a run report something to draw: loaded,
rejected (too short), failed (empty page) and a near-duplicate across the sources."""

from __future__ import annotations

from pathlib import Path

from support.stories import STORIES, story_page

# A title that would break the page if it were not escaped.
HOSTILE_TITLE = "Bakery closes </td><script>alert('x')</script> & <b>ends</b>"
COPY_TITLE = "Island ferry back on its winter timetable (republished)"


def write_sources(root: Path) -> Path:
    """harbour-desk: two stories, a stub and an empty page; river-wire: a republished copy
    of the ferry story (a near-duplicate) and a story of its own."""
    desk = root / "harbour-desk"
    wire = root / "river-wire"
    desk.mkdir(parents=True)
    wire.mkdir(parents=True)
    (desk / "ferry.html").write_text(story_page("Island ferry back on its winter timetable",
                                                STORIES["ferry"]))
    (desk / "bakery.html").write_text(story_page(HOSTILE_TITLE, STORIES["bakery"]))
    (desk / "stub.html").write_text(story_page("Stub", ["Subscribe to read the rest."]))
    (desk / "empty.html").write_bytes(b"")
    copy = [*STORIES["ferry"],
            "Reposted with permission from a partner paper on the other side of the bay."]
    (wire / "ferry-copy.html").write_text(story_page(COPY_TITLE, copy))
    (wire / "observatory.html").write_text(story_page("Brass telescope restored",
                                                      STORIES["observatory"]))
    sources = root / "sources.yml"
    sources.write_text(
        "sources:\n"
        "- {name: harbour-desk, kind: files, location: harbour-desk, language: en}\n"
        "- {name: river-wire, kind: files, location: river-wire, language: en}\n")
    return sources
