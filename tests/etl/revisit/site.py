"""A small local news site whose pages an editor changes between runs (127.0.0.1 only).

Every story is written for these tests. `EditedSite.pages` maps a slug to what the page
says now (title, paragraphs, status, the page chrome outside the article); the handler
serves the current state, so a test edits a page by changing the mapping."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

STORIES: dict[str, tuple[str, list[str]]] = {
    "bridge": ("Old river bridge to close for repairs in spring", [
        "The old stone bridge over the river will close to cars for six months from March "
        "while engineers replace the bearings and repair the arches damaged by last winter.",
        "Pedestrians and cyclists will keep a narrow lane on the upstream side for most of "
        "the works, the roads department said, except during two weekends of heavy lifting.",
        "Buses will be diverted over the ring road bridge, adding about ten minutes to the "
        "journey between the market square and the railway station at busy times.",
    ]),
    "orchard": ("Community orchard plants its hundredth tree", [
        "Volunteers at the community orchard on the edge of the allotments planted their "
        "hundredth fruit tree on Saturday, a late-ripening pear donated by a retired teacher.",
        "The orchard began eight years ago on a strip of land that used to flood every "
        "spring, until a new ditch and a row of willows dried the ground out.",
        "Apples, plums and quinces from the trees are given away at a harvest festival in "
        "October, and the surplus goes to the food bank behind the town hall.",
    ]),
    "budget": ("Council approves a larger school repair budget", [
        "Councillors voted by a large majority on Thursday to raise the budget for school "
        "roof and window repairs, after inspectors found leaks in four primary schools.",
        "The money comes from a reserve that had been set aside for a new car park near the "
        "leisure centre, a project now delayed until the traffic survey is finished.",
        "Head teachers welcomed the decision but said the works should be done during the "
        "summer holidays so that no classroom has to close during term time.",
    ]),
    "festival": ("Jazz festival moves to the harbour front", [
        "The summer jazz festival will leave the park for the harbour front this year, the "
        "organisers announced, because the bandstand there needs a new roof and wiring.",
        "Three stages will be built on the quay, with the largest facing the water so that "
        "boats can moor nearby and listen to the evening concerts from the deck.",
        "Residents of the harbour streets will receive free passes, and the music must stop "
        "at eleven every night under the licence granted by the council last week.",
    ]),
    "weather": ("Weather station records the wettest autumn in decades", [
        "The hilltop weather station recorded more rain this autumn than in any autumn "
        "since its records began, the volunteers who read its gauges every morning said.",
        "Farmers in the valley have not been able to sow winter wheat on the lower fields, "
        "which have stood under water since the middle of October.",
        "The volunteers hope to replace the wooden instrument shelter next year, once the "
        "fundraising walk in May has covered the cost of the new sensors.",
    ]),
    "tram": ("Tram line extension opens to the university", [
        "The extension of the tram line to the university campus opened on Monday, two "
        "months late, with trams every eight minutes during term and every quarter hour "
        "in the holidays.",
        "Students had waited for the line since the science faculty moved to the hill, "
        "and many had relied on a shuttle bus that was often too full to stop.",
        "The transport authority said the delay came from the late delivery of the rails "
        "for the new viaduct over the motorway junction north of the campus.",
    ]),
    "market": ("Farmers market returns to the cathedral square", [
        "The Saturday farmers market returns to the cathedral square next month after two "
        "years in a supermarket car park while the square was being repaved.",
        "Thirty stalls have signed up, from cheese makers and bakers to a beekeeper who "
        "sells honey from hives on the roof of the public library.",
        "Traders said the new paving and the fountain would bring back the visitors who "
        "used to combine the market with a walk through the old town.",
    ]),
}


@dataclass
class PageState:
    title: str
    paragraphs: list[str]
    status: int = 200
    chrome: str = "Updated 08:00 · Advert: garden furniture sale"  # outside the article
    etag: bool = False  # send an ETag and answer If-None-Match with 304


@dataclass
class EditedSite:
    server: HTTPServer
    pages: dict[str, PageState] = field(default_factory=dict)

    def url(self, slug: str) -> str:
        return self.server.url_for(f"/news/{slug}")

    def html(self, state: PageState) -> str:
        body = "".join(f"<p>{p}</p>" for p in state.paragraphs)
        return (f"<html lang='en'><head><meta charset='utf-8'><title>{state.title}</title>"
                f"</head><body><header><nav>Home · Local · Sport</nav>"
                f"<div class='stamp'>{state.chrome}</div></header>"
                f"<article><h1>{state.title}</h1>{body}</article>"
                f"<footer>© Local newsroom</footer></body></html>")

    def handle(self, request: Request) -> Response:
        state = self.pages.get(request.path.rsplit("/", 1)[-1])
        if state is None:
            return Response("not here", status=404)
        if state.status != 200:
            return Response("gone", status=state.status)
        html = self.html(state)
        headers = {}
        if state.etag:
            tag = '"' + hashlib.sha256(html.encode()).hexdigest()[:16] + '"'
            if request.headers.get("If-None-Match") == tag:
                return Response(status=304, headers={"ETag": tag})
            headers["ETag"] = tag
        return Response(html, content_type="text/html; charset=utf-8", headers=headers)


def serve_edited_site(server: HTTPServer, slugs: list[str]) -> EditedSite:
    site = EditedSite(server)
    for slug in slugs:
        title, paragraphs = STORIES[slug]
        site.pages[slug] = PageState(title, list(paragraphs))
    server.expect_request(re.compile(r"^/news/")).respond_with_handler(site.handle)
    return site


def sources_yml(path, site: EditedSite, slugs: list[str], revisit: str = "") -> str:
    urls = ", ".join(f"'{site.url(s)}'" for s in slugs)
    path.write_text(
        "http: {allow_hosts: [127.0.0.1], obey_robots: false, min_delay_s: 0, retries: 0, "
        "timeout_s: 2}\n"
        f"sources:\n- {{name: town, kind: urls, language: en, urls: [{urls}]{revisit}}}\n")
    return str(path)
