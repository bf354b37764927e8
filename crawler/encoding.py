"""The one encoding decision for fetched pages.

Chinese sites routinely lie about their charset: pages declare gb2312 in a meta tag while
the bytes are UTF-8, and servers send a charset header that the page contradicts. The bytes
are the only witness that cannot lie, so: BOM, then "is it valid UTF-8?", then what the
header or page declares, then GB18030 (a superset of GB2312 and GBK).
"""

from __future__ import annotations

import codecs
import re

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, resolve_encoding

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_NON_ASCII = re.compile(rb"[\x80-\xff]")


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
