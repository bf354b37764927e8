"""The one encoding decision for fetched pages.

Chinese sites routinely lie about their charset: pages declare gb2312 in a meta tag while
the bytes are UTF-8, and servers send a charset header that the page contradicts. The bytes
are the only witness that cannot lie, so: BOM, then "is it valid UTF-8?", then what the
header or page declares, then GB18030 (a superset of GB2312 and GBK).

Some pages are both: a UTF-8 page with one paragraph pasted from a GBK document. Decoding
all of it as GB18030 turns every UTF-8 character into mojibake; decoding all of it as UTF-8
turns the paragraph into replacement characters. Such a page gets :data:`MIXED`, a codec
registered here that decodes each run of non-ASCII bytes on its own evidence: valid UTF-8
stays UTF-8, the rest is read as GB18030.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, resolve_encoding

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_NON_ASCII = re.compile(rb"[\x80-\xff]")
# A run of non-ASCII bytes, with the ASCII byte after each (a GBK trail byte can be 0x40-0x7e,
# a GB18030 four-byte sequence has digits in it): each run starts on a character boundary.
_RUN = re.compile(rb"(?:[\x80-\xff][\x30-\x39\x40-\x7e]?)+")
# Evidence that a page is (partly) UTF-8: three CJK characters in a row decode as UTF-8.
# GBK text almost never does by accident; a two-byte run easily does.
_UTF8_EVIDENCE = 9
MIXED = "utf8-gb18030-mixed"
log = logging.getLogger(__name__)


@dataclass
class Mixture:
    """How a page's non-ASCII runs split between UTF-8 and the rest, by bytes and runs."""

    utf8_bytes: int = 0
    other_bytes: int = 0
    other_runs: int = 0
    longest_utf8: int = 0


def mixture(body: bytes) -> Mixture:
    found = Mixture()
    for run in _RUN.findall(body):
        if _valid_utf8(run):
            found.utf8_bytes += len(run)
            found.longest_utf8 = max(found.longest_utf8, len(run))
        else:
            found.other_bytes += len(run)
            found.other_runs += 1
    return found


def decode_mixed(body: bytes, errors: str = "replace") -> str:
    """Each non-ASCII run by its own evidence: UTF-8 where it is valid UTF-8, else GB18030.

    A two-byte run is valid UTF-8 by accident as often as not; it follows the page's majority.
    """
    body = bytes(body)
    share = mixture(body)
    short_as = "utf-8" if share.utf8_bytes >= share.other_bytes else "gb18030"
    parts, position = [], 0
    for match in _RUN.finditer(body):
        parts.append(body[position:match.start()].decode("ascii"))
        run = match.group()
        codec = "utf-8" if _valid_utf8(run) and (len(run) > 2 or short_as == "utf-8") else "gb18030"
        parts.append(run.decode(codec, errors="replace"))
        position = match.end()
    parts.append(body[position:].decode("ascii"))
    return "".join(parts)


def _search_codec(name: str) -> codecs.CodecInfo | None:
    if name.replace("-", "_") != MIXED.replace("-", "_"):
        return None
    return codecs.CodecInfo(
        name=MIXED,
        encode=codecs.utf_8_encode,
        decode=lambda data, errors="strict": (decode_mixed(data, errors), len(data)),
    )


codecs.register(_search_codec)


def decide_encoding(body: bytes, content_type: str | None = None, override: str | None = None) -> str:
    """Name the codec to decode ``body`` with. ``override`` is a source's explicit setting."""
    if override:
        return resolve_encoding(override) or override
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    if _is_utf8(body):
        return "utf-8"
    declared = http_content_type_encoding(content_type) if content_type else None
    declared = declared or html_body_declared_encoding(body[:4096])
    resolved = resolve_encoding(declared) if declared else None
    if resolved in (None, "utf-8", "ascii", "cp1252", "gb18030") and mixture(body).longest_utf8 >= _UTF8_EVIDENCE:
        return MIXED
    # A declared UTF-8 we just proved wrong is no help: fall through to the Chinese superset.
    if resolved and resolved not in ("utf-8", "ascii", "cp1252"):
        return resolved
    return "gb18030"


def decode(body: bytes, content_type: str | None = None, override: str | None = None) -> str:
    encoding = decide_encoding(body, content_type, override)
    text = body.decode(encoding, errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def _is_utf8(body: bytes) -> bool:
    if not _NON_ASCII.search(body):
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        # A page cut off mid-character is still UTF-8: tolerate damage in the last 3 bytes.
        return error.start >= len(body) - 3
    return True


def _valid_utf8(run: bytes) -> bool:
    try:
        run.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
