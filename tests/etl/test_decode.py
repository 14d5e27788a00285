import pytest

from etl.decode import DecodeError, decode_html, sniff_declared_charset

TEXT = "Größere Öffnungszeiten für die Bücherei – «très» café"


@pytest.mark.parametrize("charset", ["iso-8859-1", "windows-1252", "utf-8"])
def test_meta_charset_is_honoured(charset: str) -> None:
    text = TEXT.replace("–", "-") if charset == "iso-8859-1" else TEXT
    raw = f'<html><head><meta charset="{charset}"></head><p>{text}</p>'.encode(charset)
    assert text in decode_html(raw)


def test_header_charset_wins_over_detection() -> None:
    raw = "<p>Ça coûte très cher, déjà</p>".encode("cp1252")
    assert "Ça coûte" in decode_html(raw, "windows-1252")


def test_undeclared_shift_jis_is_detected() -> None:
    text = "東京都は本日、新しい図書館の開館時間を発表しました。" * 5
    assert text in decode_html(f"<p>{text}</p>".encode("shift_jis"))


def test_utf8_page_that_declares_latin1_is_read_as_utf8() -> None:
    raw = f'<meta charset="iso-8859-1"><p>{TEXT}</p>'.encode()
    assert TEXT in decode_html(raw)


def test_binary_content_is_refused() -> None:
    with pytest.raises(DecodeError):
        decode_html(b"%PDF-1.7\n\x00\x00\x00binary")


def test_sniff_declared_charset() -> None:
    assert sniff_declared_charset(b'<meta http-equiv="Content-Type" '
                                  b'content="text/html; charset=ISO-8859-15">') == "ISO-8859-15"
    assert sniff_declared_charset(b'<?xml version="1.0" encoding="Shift_JIS"?>') == "Shift_JIS"


# --- how the charset was decided: every framing, truthful and lying declarations ---------

from etl.decode import (  # noqa: E402
    BOM,
    DECLARED,
    DETECTED,
    UTF8,
    UTF8_OVER_DECLARED,
    decode_page,
)

FRENCH = ("La mairie a voté jeudi un budget élargi pour les écoles ; « c'est déjà "
          "mieux », a déclaré l'adjointe chargée de l'éducation.")
RUSSIAN = "Городской совет в четверг утвердил новый бюджет для школ и библиотек района."
JAPANESE = "市議会は木曜日、学校と図書館の新しい予算を承認しました。"

FRAMINGS = {
    "meta": '<html><head><meta charset="{cs}"></head><body><p>{text}</p></body></html>',
    "http-equiv": ('<html><head><meta http-equiv="Content-Type" '
                   'content="text/html; charset={cs}"></head><body><p>{text}</p></body></html>'),
    "xml": ('<?xml version="1.0" encoding="{cs}"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
            "<body><p>{text}</p></body></html>"),
}
LEGACY = [("windows-1252", FRENCH), ("iso-8859-1", FRENCH.replace("«", '"').replace("»", '"')),
          ("koi8-r", RUSSIAN), ("shift_jis", JAPANESE)]


@pytest.mark.parametrize("framing", sorted(FRAMINGS))
@pytest.mark.parametrize(("charset", "text"), LEGACY)
def test_truthful_declaration_in_the_document_is_used(framing, charset, text) -> None:
    raw = FRAMINGS[framing].format(cs=charset, text=text).encode(charset)
    decoded = decode_page(raw)
    assert text in decoded.text and decoded.how == DECLARED


@pytest.mark.parametrize("framing", sorted(FRAMINGS))
@pytest.mark.parametrize(("charset", "text"), LEGACY)
def test_lying_declaration_over_utf8_bytes_loses_to_utf8(framing, charset, text) -> None:
    raw = FRAMINGS[framing].format(cs=charset, text=text).encode("utf-8")
    decoded = decode_page(raw)
    assert text in decoded.text and decoded.how == UTF8_OVER_DECLARED
    assert decoded.encoding == "utf-8"


@pytest.mark.parametrize(("charset", "text"), LEGACY)
def test_http_header_declaration_truthful_and_lying(charset, text) -> None:
    page = f"<html><body><p>{text}</p></body></html>"
    truthful = decode_page(page.encode(charset), charset)
    assert text in truthful.text and truthful.how == DECLARED
    lying = decode_page(page.encode("utf-8"), charset)
    assert text in lying.text and lying.how == UTF8_OVER_DECLARED


def test_header_wins_over_a_conflicting_meta_declaration() -> None:
    raw = ('<meta charset="shift_jis"><p>' + RUSSIAN + "</p>").encode("koi8-r")
    decoded = decode_page(raw, "koi8-r")
    assert RUSSIAN in decoded.text and decoded.how == DECLARED


def test_ascii_only_page_keeps_its_declaration() -> None:
    decoded = decode_page(b'<meta charset="windows-1252"><p>Plain news</p>')
    assert decoded.how == DECLARED and decoded.encoding == "cp1252"


def test_declared_utf8_over_legacy_bytes_is_detected_instead() -> None:
    text = " ".join([FRENCH] * 6)
    raw = f'<meta charset="utf-8"><p>{text}</p>'.encode("cp1252")
    decoded = decode_page(raw)
    assert decoded.how == DETECTED and text in decoded.text


@pytest.mark.parametrize(("charset", "text"), [("utf-8", FRENCH), ("windows-1252", FRENCH),
                                               ("koi8-r", RUSSIAN), ("shift_jis", JAPANESE)])
def test_undeclared_pages(charset: str, text: str) -> None:
    body = " ".join([text] * 6)
    decoded = decode_page(f"<html><body><p>{body}</p></body></html>".encode(charset))
    assert text in decoded.text
    assert decoded.how == (UTF8 if charset == "utf-8" else DETECTED)


def test_bom_beats_any_declaration() -> None:
    raw = b"\xef\xbb\xbf" + f'<meta charset="koi8-r"><p>{FRENCH}</p>'.encode()
    decoded = decode_page(raw, "windows-1252")
    assert decoded.how == BOM and FRENCH in decoded.text


def test_utf16_declared_over_single_byte_content_is_ignored() -> None:
    decoded = decode_page(f'<meta charset="utf-16"><p>{FRENCH}</p>'.encode())
    assert decoded.how == UTF8 and FRENCH in decoded.text
