"""Short news stories written for the dedup tests, and a page builder for a local site.

Each story is a few paragraphs of 60+ words on its own subject, so two different stories
share almost no 3-word shingles and every story passes validation (50 words).
"""

from __future__ import annotations

import html

STORIES: dict[str, list[str]] = {
    "ferry": [
        "The island ferry returned to its winter timetable on Monday after the shipyard "
        "finished replacing both engines three weeks later than the operator had promised.",
        "Passengers who commute to the mainland hospital said the long gap had forced them to "
        "book expensive water taxis, and the council has asked the operator to refund them.",
        "The operator said the new engines burn a third less diesel and should keep the "
        "crossing running for another twenty years without a major overhaul of the hull.",
    ],
    "bakery": [
        "A family bakery that has stood on the market square since the nineteen twenties "
        "will close at the end of the month because none of the grandchildren want the shop.",
        "Regular customers queued around the corner on Saturday for a last loaf of rye bread, "
        "and the owners promised to publish the recipe for their famous poppy seed roll.",
    ],
    "observatory": [
        "Volunteers at the hilltop observatory have restored the brass telescope that was "
        "donated by a retired schoolteacher and left in a damp cellar for almost forty years.",
        "The first public viewing night is planned for the new moon in March, when visitors "
        "will be able to see the rings of Saturn if the weather over the ridge stays clear.",
    ],
    "marathon": [
        "Organisers of the city marathon moved the start line two kilometres north this year "
        "so that runners avoid the bridge closed for repairs since the floods in early spring.",
        "More than eleven thousand people have registered, a record, and the medical tent at "
        "the finish will be staffed by students from the nursing college for the first time.",
    ],
    "orchestra": [
        "The youth orchestra won a scholarship to tour three northern countries next summer "
        "after a jury praised its performance of a little-known symphony by a local composer.",
        "Parents are organising a flea market and a sponsored swim to pay for instruments "
        "that travel in the hold, since the double basses cannot fit into the coach lockers.",
    ],
    "wetland": [
        "Birdwatchers counted more than two hundred cranes resting at the restored wetland "
        "south of the motorway, a sign that the reed beds planted five years ago are working.",
        "The nature trust will keep the viewing hides closed until the end of February so "
        "the flocks are not disturbed while they feed before continuing their migration.",
    ],
}

# Paragraphs a CMS adds to one page and not another: "Archive note" lines are removed by
# the boilerplate rule of the re-extraction tests.
ARCHIVE_NOTES = [
    "Archive note: this report was first published in the printed weekend edition together "
    "with a map of the ferry routes, a table of winter fares and a letter from the harbour "
    "master explaining why the refit took longer than the shipyard had planned.",
    "Archive note: readers wrote to the letters page for several weeks about the missing "
    "crossings, and a petition signed by nine hundred islanders asked the regional "
    "government to pay for a second vessel that could stand in during future repairs.",
    "Archive note: an earlier version of this page showed a photograph of the old ferry in "
    "the dry dock, taken by a reader from the breakwater on a stormy afternoon in October, "
    "which has been moved to the gallery of island transport pictures.",
    "Archive note: the operator's spokesperson declined to say how much the new engines "
    "cost, but documents filed with the port authority mention a contract worth several "
    "million euros signed with an engine builder from the south of the country.",
]


def words(paragraphs: list[str]) -> int:
    return sum(len(p.split()) for p in paragraphs)


def story_page(title: str, paragraphs: list[str], head: str = "") -> str:
    """An article page; `head` adds markup to <head> (canonical link, og:url, base…)."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f"<html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"{head}</head><body><article><h1>{html.escape(title)}</h1>{body}</article>"
            f"</body></html>")


def canonical_link(url: str) -> str:
    return f"<link rel='canonical' href='{html.escape(url)}'>"
