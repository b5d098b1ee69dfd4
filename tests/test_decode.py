"""decode_bytes: strict UTF-8 first, then the declared charset, then detection."""

import codecs

import pytest

from ingest.decode import DecodeError, declared_charset, decode_bytes

pytestmark = pytest.mark.unit

TEXT = "記者報導：晶片出口管制的新聞內容，臺灣與中國市場。" * 5
SIMPLIFIED = "记者报道：芯片出口管制的新闻内容，这是一段简体中文测试文字。" * 5


def _page(charset: str, body: str) -> str:
    return f'<html><head><meta charset="{charset}"></head><body><p>{body}</p></body></html>'


def test_utf8() -> None:
    assert decode_bytes(TEXT.encode("utf-8")) == TEXT


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_byte_order_marks(bom: bytes, codec: str) -> None:
    assert decode_bytes(bom + TEXT.encode(codec)) == TEXT


def test_declared_gb2312_page() -> None:
    page = _page("gb2312", SIMPLIFIED)
    assert decode_bytes(page.encode("gb18030"), html=True) == page


def test_declared_big5_page() -> None:
    page = _page("big5", TEXT)
    assert decode_bytes(page.encode("cp950"), html=True) == page


def test_a_lying_declaration_loses_to_valid_utf8() -> None:
    page = _page("gb2312", SIMPLIFIED)
    assert decode_bytes(page.encode("utf-8"), html=True) == page


def test_undeclared_gbk_is_detected() -> None:
    assert decode_bytes(SIMPLIFIED.encode("gbk")) == SIMPLIFIED


def test_undeclared_big5_is_detected() -> None:
    assert decode_bytes(TEXT.encode("big5")) == TEXT


def test_crawler_wrapper_encoding_attribute() -> None:
    page = f'<text id="x" encoding="gb2312"><html><body>{SIMPLIFIED}</body></html></text>'
    assert declared_charset(page.encode("gb18030")) == "gb2312"
    assert decode_bytes(page.encode("gb18030"), html=True) == page


def test_a_few_bad_bytes_are_replaced() -> None:
    data = SIMPLIFIED.encode("gb18030") * 4 + b"\xff" + SIMPLIFIED.encode("gb18030")
    text = decode_bytes(data)
    assert text.count("\ufffd") == 1
    assert SIMPLIFIED in text


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"PK\x03\x04\x00\x00binary", "NUL"), (bytes(range(1, 9)) * 50, "control bytes")],
)
def test_binary_input_is_rejected(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_bytes(data)


def test_decode_error_is_a_value_error() -> None:
    assert issubclass(DecodeError, ValueError)


def test_binary_reason_is_the_one_sniffing_rule() -> None:
    import codecs

    from ingest.decode import SNIFF_BYTES, binary_reason

    assert binary_reason("中文\n\tok\f\r".encode()) is None
    assert binary_reason(b"") is None
    assert binary_reason("彩色\x1b[31m紅\x1b[0m".encode()) is None  # ESC: ISO-2022, ANSI
    assert binary_reason(codecs.BOM_UTF16_LE + "中文".encode("utf-16-le")) is None
    assert "NUL" in (binary_reason("news".encode("utf-16-le")) or "")  # no mark: binary
    # More than 5% control bytes is not text; 5% is.
    assert binary_reason(b"\x01" + b"a" * 19) is None
    assert "2 control bytes in the first 21" in (binary_reason(b"\x01\x02" + b"a" * 19) or "")
    # Only the first SNIFF_BYTES are looked at.
    assert binary_reason(b"a" * SNIFF_BYTES + b"\x00") is None
