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
