"""A synthetic fixture internet of realistic size, built from the real recorded templates.

Two sources in the style of the bundled recordings — NDRC (TRS WCM notices) and ScienceNet
(ASP.NET news) — each with list pages and N/2 articles. Every article is a real recorded page
whose title, date, document number and body are replaced (unique title, body drawn from the
sentences of all recorded articles), then padded to a size drawn from a log-normal
distribution (mean ~150 KB, clipped to 20–800 KB) with the boilerplate real pages carry:
navigation mega-menus, related-link lists, inline scripts and styles.
"""

from __future__ import annotations

import math
import os
import sys
import random
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != str(Path(__file__).resolve().parent)] + [str(Path(__file__).resolve().parent)]
from harness import EXPECTED, SITES, WATCHLISTS

NDRC_TEMPLATE = SITES / "www.ndrc.gov.cn/xxgk/zcfb/tz/202306/t20230613_1357505.html"
NDRC_LIST = SITES / "www.ndrc.gov.cn/xxgk/zcfb/tz/index.html"
SCIENCENET_TEMPLATE = SITES / "news.sciencenet.cn/htmlnews/2023/6/502043.shtm"
SCIENCENET_LIST = SITES / "news.sciencenet.cn/indexyaowen-1.aspx"
PER_PAGE = 50


@dataclass
class Fixture:
    sites: Path
    watchlists: Path
    articles: list[Path]  # every article file, in generation order
    urls: list[str]
    total_bytes: int
    list_pages: int

    @property
    def mean_kb(self) -> float:
        return self.total_bytes / max(len(self.articles), 1) / 1024


# -- text pools ------------------------------------------------------------------------
_HAN = re.compile(r"[\u4e00-\u9fff]")


def sentence_pool() -> list[str]:
    """Sentences of every recorded article (<p> text split at 。！？)."""
    from lxml import html

    sentences: set[str] = set()
    for path in SITES.rglob("*"):
        if not path.is_file() or path.suffix.lower() not in (".html", ".htm", ".shtml", ".shtm", ""):
            continue
        try:
            tree = html.fromstring(path.read_bytes())
        except Exception:  # noqa: BLE001 - a recording that is not HTML
            continue
        for p in tree.iter("p"):
            text = re.sub(r"\s+", "", p.text_content()).replace("\u3000", "")
            for sentence in re.findall(r"[^。！？]+[。！？]", text):
                if 12 <= len(sentence) <= 160 and len(_HAN.findall(sentence)) > len(sentence) * 0.6:
                    sentences.add(sentence)
    return sorted(sentences)


def title_pool() -> list[str]:
    titles = []
    for path in sorted(EXPECTED.glob("*.yml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if entry.get("title"):
                titles.append(entry["title"])
    return titles


# -- padding ----------------------------------------------------------------------------
_JS = """(function($){var __N__={opts:{speed:300,auto:true,interval:5000,wrap:".__N__-wrap",item:"li"},init:function(el,o){var s=$.extend({},this.opts,o||{});var $el=$(el),$items=$el.find(s.item),n=$items.length,cur=0,timer=null;function go(i){cur=(i+n)%n;$items.removeClass("on").eq(cur).addClass("on");$el.find(".dots span").removeClass("cur").eq(cur).addClass("cur");}
$el.on("mouseenter",function(){clearInterval(timer);}).on("mouseleave",function(){if(s.auto){timer=setInterval(function(){go(cur+1);},s.interval);}});$el.find(".prev").click(function(){go(cur-1);});$el.find(".next").click(function(){go(cur+1);});if(s.auto){timer=setInterval(function(){go(cur+1);},s.interval);}go(0);return $el;}};
$.fn.__N__=function(o){return this.each(function(){__N__.init(this,o);});};$(function(){$(".__N__-wrap").__N__({interval:__I__});var _hmt=_hmt||[];var hm=document.createElement("script");hm.src="https://hm.baidu.com/hm.js?__H__";var s=document.getElementsByTagName("script")[0];s.parentNode.insertBefore(hm,s);});})(jQuery);
"""
_SECTIONS = ["机构设置", "新闻动态", "政务公开", "政务服务", "互动交流", "专题专栏", "发展改革工作", "科技创新", "产业发展", "区域协调",
             "能源安全", "资源节约", "社会发展", "价格管理", "国际合作", "数据发布", "政策解读", "法规文件", "规划计划", "统计数据"]


def _padding_bank(rng: random.Random, titles: list[str], sentences: list[str]) -> list[str]:
    """~200 chunks of 4–12 KB: menus, link lists, footers, scripts, styles, JSON config."""
    bank = []
    for index in range(200):
        kind = index % 5
        parts: list[str] = []
        if kind == 0:  # a mega menu
            parts.append(f'<div class="mega-menu m{index}"><div class="container">')
            for dl in range(rng.randint(8, 20)):
                sec = rng.choice(_SECTIONS)
                parts.append(f'<dl><dt><a href="/{dl:02d}/{index}/">{sec}</a></dt><dd>')
                for dd in range(rng.randint(4, 10)):
                    parts.append(f'<a href="/{dl:02d}/{index}/{dd:02d}/" target="_blank">{rng.choice(_SECTIONS)}{rng.choice(["动态", "公告", "通知", "解读", "服务", "专栏"])}</a>')
                parts.append("</dd></dl>")
            parts.append("</div></div>")
        elif kind == 1:  # related / hot articles
            parts.append(f'<div class="related r{index}"><div class="related-title">{rng.choice(["相关文章", "热点推荐", "最新发布", "图片新闻"])}</div><ul>')
            for _ in range(rng.randint(20, 45)):
                title = rng.choice(titles)
                parts.append(f'<li><a href="/xwdt/{rng.randint(100000, 999999)}.html" target="_blank" title="{title}">{title}</a><span>{2023}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}</span></li>')
            parts.append("</ul></div>")
        elif kind == 2:  # inline scripts, a widget per block
            parts.append('<script type="text/javascript">')
            for _ in range(rng.randint(4, 9)):
                name = "w" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6))
                parts.append(_JS.replace("__N__", name).replace("__I__", str(rng.randint(3000, 9000))).replace("__H__", f"{rng.getrandbits(128):032x}"))
            parts.append("</script>")
        elif kind == 3:  # styles
            parts.append('<style type="text/css">')
            for _ in range(rng.randint(80, 160)):
                cls = "".join(rng.choice("abcdefghijklmnop") for _ in range(5))
                parts.append(f".{cls} .{cls}-{rng.randint(1, 9)}{{margin:{rng.randint(0, 20)}px {rng.randint(0, 20)}px;padding:0 {rng.randint(0, 12)}px;color:#{rng.getrandbits(24):06x};font-size:{rng.randint(12, 18)}px;line-height:{rng.randint(18, 32)}px}}")
            parts.append("</style>")
        else:  # footer, sitemap, JSON config with notices
            parts.append(f'<div class="footer f{index}"><div class="container"><p>主办单位：中华人民共和国国家发展和改革委员会　网站标识码：bm0400000{index % 10}</p>')
            parts.append('<div class="links">' + "".join(f'<a href="https://www.{rng.choice(["most", "miit", "mof", "mee", "cas", "nsfc"])}.gov.cn/{i}/" target="_blank">{rng.choice(_SECTIONS)}</a>' for i in range(rng.randint(30, 60))) + "</div>")
            notices = ",".join(f'{{"t":"{rng.choice(titles)}","s":"{rng.choice(sentences)[:60]}","u":"/tzgg/{rng.randint(1, 99999)}"}}' for _ in range(rng.randint(10, 25)))
            parts.append(f'<script type="text/javascript">var siteNotice=[{notices}];</script></div></div>')
        bank.append("\n".join(parts))
    return bank


def _target_size(rng: random.Random) -> int:
    sigma = 0.6
    mu = math.log(150 * 1024) - sigma * sigma / 2  # mean 150 KB
    return int(min(max(rng.lognormvariate(mu, sigma), 20 * 1024), 800 * 1024))


def _pad(page: str, target: int, rng: random.Random, bank: list[str]) -> str:
    size = len(page.encode("utf-8"))
    chunks = []
    while size < target:
        chunk = rng.choice(bank)
        chunks.append(chunk)
        size += len(chunk.encode("utf-8"))
    head, tail = page.rsplit("</body>", 1)
    # Half the boilerplate before the article (menus load first), half after.
    before, after = chunks[: len(chunks) // 2], chunks[len(chunks) // 2 :]
    marker = "<body>"
    at = head.index(marker) + len(marker)
    return head[:at] + "\n" + "\n".join(before) + head[at:] + "\n".join(after) + "\n</body>" + tail


def _body(rng: random.Random, sentences: list[str], salt: str) -> list[str]:
    """Paragraphs of 800–3,000 characters of real sentences, one of them unique."""
    want = rng.randint(800, 3000)
    paragraphs, size = [], 0
    while size < want:
        paragraph = "".join(rng.choice(sentences) for _ in range(rng.randint(2, 5)))
        paragraphs.append(paragraph)
        size += len(paragraph)
    paragraphs.insert(rng.randint(0, len(paragraphs)), f"本文编号{salt}，相关工作按照有关规定执行。")
    return paragraphs


# -- the two sources ----------------------------------------------------------------------
def _replace_block(page: str, start_marker: str, inner: str) -> str:
    start = page.index(start_marker) + len(start_marker)
    end = page.index("</div>", start)
    return page[:start] + inner + page[end:]


def _ndrc_article(template: str, old_title: str, title: str, when: datetime, number: int, paragraphs: list[str]) -> str:
    page = template.replace(old_title, title)
    page = page.replace('content="2023-06-13 10:30"', f'content="{when:%Y-%m-%d %H:%M}"')
    page = page.replace("发布时间：2023/06/13", f"发布时间：{when:%Y/%m/%d}")
    page = page.replace("发改社会〔2023〕699号", f"发改〔{when.year}〕{number}号")
    style = '<style type="text/css">\n.TRS_Editor P{margin-top:0;margin-bottom:12px;line-height:2;font-family:宋体;font-size:16px;}\n</style>\n'
    inner = style + "\n".join(f'<p style="text-indent: 2em;">{p}</p>' for p in paragraphs) + "\n"
    return _replace_block(page, '<div class="TRS_Editor">', inner)


def _sciencenet_article(template: str, old_title: str, title: str, when: datetime, paragraphs: list[str]) -> str:
    page = template.replace(old_title, title)
    page = page.replace("发布时间：2023/6/1 9:12:33", f"发布时间：{when.year}/{when.month}/{when.day} {when.hour}:{when:%M:%S}")
    inner = "\n" + "\n".join(f"<p>\u3000\u3000{p}</p>" for p in paragraphs) + "\n"
    return _replace_block(page, '<div id="content1">', inner)


def _ndrc_list(template: str, entries: list[tuple[str, str, datetime]], page: int, pages: int) -> str:
    head = template.split("<body>", 1)[0]
    items = "\n".join(f'<li><a href="{href}" target="_blank" title="{title}">{title[:30]}</a><span>{when:%Y/%m/%d}</span></li>'
                      for href, title, when in entries)
    pager = f'<script type="text/javascript">createPageHTML({pages}, {page}, "index", "html");</script>'
    return f'{head}<body>\n<div class="container"><div class="list"><ul class="u-list">\n{items}\n</ul>{pager}</div></div>\n</body>\n</html>\n'


def _sciencenet_list(template: str, entries: list[tuple[str, str, datetime]]) -> str:
    head = template.split("<body>", 1)[0]
    rows = "\n".join(
        f'<tr><td>\n<table width="100%" border="0" cellspacing="0" cellpadding="0">\n<tbody>\n<tr><td height="4" colspan="3"></td></tr>\n<tr>\n'
        f'<td width="72%" align="left"><img src="/images/dot.gif" width="9" height="9" /> <a href="{href}" target="_blank">{title}</a></td>\n'
        f'<td width="12%" align="center" class="author">记者</td>\n<td width="16%" align="right" class="time">{when.year}/{when.month}/{when.day} {when.hour}:{when:%M:%S}</td>\n</tr>\n</tbody>\n</table>\n</td></tr>'
        for href, title, when in entries
    )
    return f'{head}<body>\n<div id="main"><div id="mleft"><div id="mleft3">\n<table width="100%" border="0" cellspacing="0" cellpadding="0">\n<tbody>\n{rows}\n</tbody>\n</table>\n</div></div></div>\n</body>\n</html>\n'


def _meta_title(page: str) -> str:
    return re.search(r'<meta name="ArticleTitle" content="([^"]+)"', page).group(1)


def generate(
    root: Path, n: int, seed: int = 1, sources: tuple[str, ...] = ("ndrc", "sciencenet"),
    per_page: int = PER_PAGE, own_limits: bool = False,
) -> Fixture:
    """Write ``n`` articles (split over ``sources``), their list pages and a watchlist folder.

    The watchlists are raised to read every list page, unless ``own_limits`` keeps the
    sources' own ``max_pages`` and ``max_entries`` (what a real scheduled run reads)."""
    rng = random.Random(seed)
    sentences, titles = sentence_pool(), title_pool()
    bank = _padding_bank(rng, titles, sentences)
    sites, watchlists = root / "sites", root / "watchlists"
    (watchlists / "sources").mkdir(parents=True, exist_ok=True)
    shutil.copy(WATCHLISTS / "topics.yml", watchlists / "topics.yml")
    articles: list[Path] = []
    urls: list[str] = []
    total = list_pages = 0
    share = [n // len(sources) + (1 if i < n % len(sources) else 0) for i in range(len(sources))]
    start = datetime(2023, 7, 31, 17, 0)
    for source, count in zip(sources, share):
        host = "www.ndrc.gov.cn" if source == "ndrc" else "news.sciencenet.cn"
        site = sites / host
        site.mkdir(parents=True, exist_ok=True)
        for name in ("robots.txt", "_site.yml"):
            shutil.copy(SITES / host / name, site / name)
        template = (NDRC_TEMPLATE if source == "ndrc" else SCIENCENET_TEMPLATE).read_text(encoding="utf-8")
        old_title = _meta_title(template) if source == "ndrc" else "山东大学核科学技术研究院揭牌"
        entries: list[tuple[str, str, datetime]] = []
        for i in range(count):
            when = start - timedelta(minutes=37 * i + rng.randint(0, 30))
            number = 100000 + i
            title = f"{rng.choice(titles)}（{source}第{number}号）"
            paragraphs = _body(rng, sentences, f"{source}-{number}")
            if source == "ndrc":
                rel = f"{when:%Y%m}/t{when:%Y%m%d}_{2000000 + i}.html"
                path = site / "xxgk/zcfb/tz" / rel
                url, href = f"https://www.ndrc.gov.cn/xxgk/zcfb/tz/{rel}", f"./{rel}"
                page = _ndrc_article(template, old_title, title, when, number, paragraphs)
            else:
                rel = f"htmlnews/{when.year}/{when.month}/{600000 + i}.shtm"
                path = site / rel
                url, href = f"https://news.sciencenet.cn/{rel}", f"/{rel}"
                page = _sciencenet_article(template, old_title, title, when, paragraphs)
            page = _pad(page, _target_size(rng), rng, bank)
            path.parent.mkdir(parents=True, exist_ok=True)
            data = page.encode("utf-8")
            path.write_bytes(data)
            total += len(data)
            articles.append(path)
            urls.append(url)
            entries.append((href, title, when))
        pages = max(1, math.ceil(count / per_page))
        list_template = (NDRC_LIST if source == "ndrc" else SCIENCENET_LIST).read_text(encoding="utf-8")
        for page_no in range(pages):
            chunk = entries[page_no * per_page : (page_no + 1) * per_page]
            if source == "ndrc":
                name = "index.html" if page_no == 0 else f"index_{page_no}.html"
                (site / "xxgk/zcfb/tz" / name).write_text(_ndrc_list(list_template, chunk, page_no, pages), encoding="utf-8")
            else:
                (site / f"indexyaowen-{page_no + 1}.aspx").write_text(_sciencenet_list(list_template, chunk), encoding="utf-8")
            list_pages += 1
        spec = yaml.safe_load((WATCHLISTS / "sources" / f"{source}.yml").read_text(encoding="utf-8"))
        if not own_limits:
            spec["pagination"]["max_pages"] = pages + 1
            spec["max_entries"] = per_page * 2
        (watchlists / "sources" / f"{source}.yml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return Fixture(sites, watchlists, articles, urls, total, list_pages)


if __name__ == "__main__":  # a quick look: python bench/fixture.py /tmp/x 20
    import sys

    fixture = generate(Path(sys.argv[1]), int(sys.argv[2]))
    print(f"{len(fixture.articles)} articles, {fixture.mean_kb:.0f} KB mean, {fixture.list_pages} list pages under {fixture.sites}")
