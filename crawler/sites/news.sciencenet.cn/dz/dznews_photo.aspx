<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<!-- Reconstruction, not a recording. What is known (alisen39/whatshot whats_hot_api/routes/hotlist/epaper_central.py, code index commit 7742e865, notes dated 2026-09-28): this graphic edition of the current issue links the text edition, dzzz_1.aspx?dzsbqkid=<issue id>, by the first <a> whose href holds "dzsbqkid="; it declares gb2312 while the bytes are UTF-8. Inferred: everything else here (layout, texts, the place of the link, the page image). The issue id 24833 is one seen in a public wget command (undated), not the id of this fixture's date. -->
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />
<title>中国科学报 图形版</title>
</head>
<body>
<div id="top"><a href="https://news.sciencenet.cn/">科学网首页</a> | <a href="https://news.sciencenet.cn/dz/dznews_photo.aspx">中国科学报</a></div>
<table width="1000" border="0" cellspacing="0" cellpadding="0" align="center">
<tr>
<td width="260" valign="top">
<div class="paperdate">2026年6月10日 星期三</div>
<div class="switch"><a href="dzzz_1.aspx?dzsbqkid=24833">转为文字版</a></div>
<div class="pages">
<a href="javascript:void(0)" onclick="showpage(1)">第1版 要闻</a><br />
<a href="javascript:void(0)" onclick="showpage(3)">第3版 综合</a>
</div>
</td>
<td width="740" valign="top"><img src="images/page01.jpg" width="600" alt="第1版" usemap="#pagemap" /></td>
</tr>
</table>
<div id="footer">中国科学报社 版权所有 <script type="text/javascript">document.write("<a href='x'>统计</a>");</script></div>
</body>
</html>
