"""Lists kept as records inside a script, as Hanweb (大汉) CMS column pages keep them.

A Hanweb column page (``/col/col<id>/index.html``) carries its entries in a data store,
``<script type="text/xml"><datastore><recordset><record><![CDATA[<li>…</li>]]></record>…``,
which the site's paging script turns into the visible list in a browser (public scrapers
read the records with a regex over the script, or render the page and read the result). To
an HTML parser the script is text, so the ``list`` rules would match nothing: an
``html_list`` source that names the script in ``records:`` has its rules applied to the
records' HTML instead. The same store also comes as a document of its own (the XML that
``/module/web/jpage/dataproxy.jsp`` answers to a POST, the next pages of such a column):
``records: recordset`` reads it. Nothing here knows a site; any page that keeps rows this way works.
"""

from __future__ import annotations

import re

from parsel import Selector

RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.DOTALL)


def record_fragment(selector: Selector, store_css: str, page_text: str = "") -> Selector | None:
    """The records inside the scripts ``store_css`` selects, as one HTML fragment in page
    order; None when no script holds a record (a redesign, or a page without the store).
    When ``store_css`` selects the store itself (``recordset``: the page IS the store, as a
    dataproxy.jsp answer is), the records are read from ``page_text``: parsers disagree on a
    CDATA section (XML keeps it as text, HTML parses the rows inside as elements), the text
    does not."""
    chosen = selector.css(store_css)
    records = [record for text in chosen.css("::text").getall() for record in RECORD.findall(text)]
    if not records and chosen and not chosen.xpath("self::script"):
        records = RECORD.findall(page_text)
    if not records:
        return None
    return Selector(text="<div>" + "\n".join(records) + "</div>")
