"""Property tests: URL canonicalisation and text normalisation never raise and are
idempotent, whatever the input."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from etl.extract.canonical_link import canonical_url
from etl.extract.document import normalise_for_hash, text_fingerprint

_HOSTS = st.sampled_from(["example.com", "WWW.Example.COM", "bücher.de", "127.0.0.1",
                          "[::1]", "xn--bcher-kva.de", "a.b.c.d.e", ""])
_PARTS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
_URLS = st.one_of(
    st.builds(lambda scheme, host, port, path, query, frag:
              f"{scheme}://{host}{port}/{path}?{query}#{frag}",
              st.sampled_from(["http", "https", "HTTP", "ftp", "file", "javascript"]), _HOSTS,
              st.sampled_from(["", ":80", ":443", ":8080", ":0", ":99999", ":abc"]),
              _PARTS, _PARTS, _PARTS),
    st.text(max_size=200),
)

PROPS = settings(max_examples=300, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(url=_URLS, page=st.one_of(st.none(), _URLS))
@example(url="http://example.com/a?utm_source=x&b=1#frag", page=None)
@example(url="file:///tmp/a b.html", page="https://example.com/c")
@example(url="http://[::1/", page=None)
def test_canonical_url_never_raises_and_is_idempotent(url: str, page: str | None) -> None:
    once = canonical_url(url, page)
    assert isinstance(once, str)
    assert canonical_url(once) == once


_TEXTS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=500)


@PROPS
@given(text=_TEXTS)
@example(text="ﬁ\u00a0Straße\u2028ǅ İ \u0301e\t\n")
@example(text="\ufeff\u200b  ")
def test_normalisation_never_raises_and_is_idempotent(text: str) -> None:
    once = normalise_for_hash(text)
    assert normalise_for_hash(once) == once
    assert text_fingerprint(text) == text_fingerprint(once)
    assert len(text_fingerprint(text)) == 64
