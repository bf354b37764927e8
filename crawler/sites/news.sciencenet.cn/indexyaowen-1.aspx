<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<!-- Reconstruction, not a recording: table layout as public scrapers and a 2026 test fixture show it (#mleft3 nested tables, #content1); no literal tbody element (a 2026 public test fixture of the list has none; browsers insert one when rendering). Texts are synthetic. -->
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>要闻—新闻—科学网</title>
<meta name="keywords" content="科学网,要闻,科技新闻" />
<meta name="description" content="科学网要闻：科技政策、科研进展、科学人物等重要新闻。" />
<link href="/css/style.css" rel="stylesheet" type="text/css" />
<script type="text/javascript" src="/js/jquery-1.8.3.min.js"></script>
<style type="text/css">
body{margin:0;padding:0;font-size:12px;font-family:"宋体",Arial,Helvetica,sans-serif;color:#333;background:#fff}
a{color:#0F4476;text-decoration:none}a:hover{color:#CC0000;text-decoration:underline}
img{border:0}ul,li{margin:0;padding:0;list-style:none}
#top{width:100%;height:28px;line-height:28px;background:#F4F4F4;border-bottom:1px solid #E0E0E0}
#top .topin{width:1000px;margin:0 auto}#top .topin a{margin:0 6px;color:#555}
#header{width:1000px;margin:0 auto;height:80px}#header .logo{float:left;padding-top:12px}
#header .search{float:right;padding-top:26px}#header .search input.text{width:220px;height:20px;border:1px solid #C9C9C9}
#nav{width:1000px;margin:0 auto;height:34px;background:#0F4476}
#nav ul li{float:left;height:34px;line-height:34px;padding:0 12px}#nav ul li a{color:#fff;font-size:14px;font-weight:bold}
#subnav{width:998px;margin:0 auto;border:1px solid #D6DEE8;border-top:0;padding:4px 0;line-height:22px}
#subnav a{margin:0 5px}
#main{width:1000px;margin:8px auto 0 auto;overflow:hidden}
#mleft{float:left;width:680px}#mright{float:right;width:300px}
#mleft2{height:30px;line-height:30px;font-size:14px;font-weight:bold;color:#0F4476;border-bottom:2px solid #0F4476;padding-left:10px}
#mleft3 td{font-size:14px;line-height:26px}#mleft3 .author{color:#666}#mleft3 .time{color:#999;font-size:12px}
#mleft4{text-align:center;padding:12px 0;font-size:12px}#mleft4 a{margin:0 3px}
#content .title{font-size:22px;font-weight:bold;color:#0F4476;line-height:34px;padding:14px 0 8px 0}
#content1{font-size:15px;line-height:28px;color:#222;padding:10px 18px}#content1 p{margin:0 0 14px 0}
.rbox{border:1px solid #D6DEE8;margin-bottom:10px}.rbox h3{margin:0;height:28px;line-height:28px;background:#EDF2F8;padding-left:10px;font-size:14px;color:#0F4476}
.rbox ul{padding:6px 10px}.rbox li{line-height:24px;height:24px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis}
.sitemap{width:998px;margin:10px auto 0 auto;border:1px solid #D6DEE8;overflow:hidden}.sitemap dl{float:left;width:160px;margin:8px}
.sitemap dt{font-weight:bold;color:#0F4476;line-height:22px}.sitemap dd{margin:0;line-height:20px}
#footer{width:1000px;margin:12px auto 0 auto;border-top:2px solid #0F4476;text-align:center;line-height:24px;color:#666;padding:8px 0 20px 0}
</style>
</head>
<body>
<form name="form1" method="post" action="./indexyaowen-1.aspx" id="form1">
<div>
<input type="hidden" name="__EVENTTARGET" id="__EVENTTARGET" value="" />
<input type="hidden" name="__EVENTARGUMENT" id="__EVENTARGUMENT" value="" />
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="/wEPDwUKMTk0NjE0NjM0Mg9kFgICAw9kFgICAQ8PFgQeC1JlY29yZGNvdW50AuKrAx4QQ3VycmVudFBhZ2VJbmRleAIBZGRkGq3Kx8H0c2o9cWm1v5yU4Ww8n0E=" />
</div>
<script type="text/javascript">
//<![CDATA[
var theForm = document.forms['form1'];
if (!theForm) { theForm = document.form1; }
function __doPostBack(eventTarget, eventArgument) {
    if (!theForm.onsubmit || (theForm.onsubmit() != false)) {
        theForm.__EVENTTARGET.value = eventTarget;
        theForm.__EVENTARGUMENT.value = eventArgument;
        theForm.submit();
    }
}
//]]>
</script>
<div id="top"><div class="topin">
<a href="https://www.sciencenet.cn/" target="_blank">科学网首页</a>|<a href="https://news.sciencenet.cn/">新闻</a>|<a href="https://blog.sciencenet.cn/" target="_blank">博客</a>|<a href="https://news.sciencenet.cn/ys/" target="_blank">院士</a>|<a href="https://talent.sciencenet.cn/" target="_blank">人才</a>|<a href="https://meeting.sciencenet.cn/" target="_blank">会议</a>|<a href="https://fund.sciencenet.cn/" target="_blank">基金</a>|<a href="https://paper.sciencenet.cn/" target="_blank">论文</a>|<a href="https://video.sciencenet.cn/" target="_blank">视频</a>|<a href="https://news.sciencenet.cn/dz/dznews_photo.aspx" target="_blank">中国科学报</a>
<span style="float:right"><a href="https://bbs.sciencenet.cn/member.php?mod=logging&amp;action=login" target="_blank">登录</a> <a href="https://bbs.sciencenet.cn/member.php?mod=register.php" target="_blank">注册</a></span>
</div></div>
<div id="header">
<div class="logo"><a href="https://www.sciencenet.cn/"><img src="/images/logo.gif" width="260" height="56" alt="科学网—新闻" /></a></div>
<div class="search"><form action="https://www.sciencenet.cn/search/search.aspx" method="get" target="_blank"><input type="text" name="q" class="text" value="" /> <select name="t"><option value="news" selected="selected">新闻</option><option value="blog">博客</option><option value="paper">论文</option></select> <input type="submit" value="搜 索" /></form></div>
</div>
<div id="nav"><ul>
<li><a href="/">新闻首页</a></li><li><a href="/morenews-F-1.aspx">动态</a></li><li><a href="/morenews-7-1.aspx">观点</a></li><li><a href="/morenews-9-1.aspx">国际</a></li><li><a href="/morenews-Y-1.aspx">人才</a></li><li><a href="/morenews-V-1.aspx">综合</a></li><li><a href="/morenews-K-1.aspx">高教</a></li><li><a href="/morenews-T-1.aspx">HOT论文</a></li><li><a href="/morenews-6-1.aspx">科普</a></li><li><a href="/indexyaowen-1.aspx">要闻</a></li><li><a href="/todaynews.aspx">今日新闻</a></li><li><a href="/imgnews.aspx">图片新闻</a></li>
</ul></div>
<div id="subnav">领域新闻：<a href="/fieldlist.aspx?id=3">生命科学</a><a href="/fieldlist.aspx?id=4">医学科学</a><a href="/fieldlist.aspx?id=5">化学科学</a><a href="/fieldlist.aspx?id=6">工程材料</a><a href="/fieldlist.aspx?id=7">信息科学</a><a href="/fieldlist.aspx?id=8">地球科学</a><a href="/fieldlist.aspx?id=9">数理科学</a><a href="/fieldlist.aspx?id=10">管理综合</a>
&nbsp;&nbsp;RSS：<a href="https://www.sciencenet.cn/xml/news-0.aspx?news=0" target="_blank">全部新闻</a> <a href="https://www.sciencenet.cn/xml/field.aspx?di=5" target="_blank">政策管理</a></div>

<div id="main">
<div id="mleft">
<div id="mleft2">要闻</div>
<div id="mleft3">
<table width="100%" border="0" cellspacing="0" cellpadding="0">
<tr><td>
<table width="100%" border="0" cellspacing="0" cellpadding="0">
<tr><td height="4" colspan="3"></td></tr>
<tr>
<td width="72%" align="left"><img src="/images/dot.gif" width="9" height="9" /> <a href="/htmlnews/2023/6/502571.shtm" target="_blank">科研人员研制出柔性可拉伸锂电池新型电解质</a></td>
<td width="12%" align="center" class="author">刘晓雨</td>
<td width="16%" align="right" class="time">2023/6/9 16:32:10</td>
</tr>
</table>
</td></tr>
<tr><td>
<table width="100%" border="0" cellspacing="0" cellpadding="0">
<tr><td height="4" colspan="3"></td></tr>
<tr>
<td width="72%" align="left"><img src="/images/dot.gif" width="9" height="9" /> <a href="/htmlnews/2023/6/502536.shtm" target="_blank">研究揭示水稻应对高温胁迫的分子“开关”</a></td>
<td width="12%" align="center" class="author">陈欣</td>
<td width="16%" align="right" class="time">2023/6/9 9:41:27</td>
</tr>
</table>
</td></tr>
<tr><td>
<table width="100%" border="0" cellspacing="0" cellpadding="0">
<tr><td height="4" colspan="3"></td></tr>
<tr>
<td width="72%" align="left"><img src="/images/dot.gif" width="9" height="9" /> <a href="/htmlnews/2023/6/502479.shtm" target="_blank">中国科学院力学研究所与宁波大学签署合作协议</a></td>
<td width="12%" align="center" class="author">赵宇航</td>
<td width="16%" align="right" class="time">2023/6/8 15:46:20</td>
</tr>
</table>
</td></tr>
<tr><td>
<table width="100%" border="0" cellspacing="0" cellpadding="0">
<tr><td height="4" colspan="3"></td></tr>
<tr>
<td width="72%" align="left"><img src="/images/dot.gif" width="9" height="9" /> <a href="/htmlnews/2023/6/502440.shtm" target="_blank">我国学者绘制出高精度全球城市建成区三维地图</a></td>
<td width="12%" align="center" class="author">王晨阳</td>
<td width="16%" align="right" class="time">2023/6/8 10:05:52</td>
</tr>
</table>
</td></tr>
<tr><td>
<table width="100%" border="0" cellspacing="0" cellpadding="0">
<tr><td height="4" colspan="3"></td></tr>
<tr>
<td width="72%" align="left"><img src="/images/dot.gif" width="9" height="9" /> <a href="https://weibo.com/l/wblive/p/show/1022:2321324915391283593347" target="_blank">直播回放｜科学家面对面：揭开深海探测的奥秘</a></td>
<td width="12%" align="center" class="author"></td>
<td width="16%" align="right" class="time">2023/6/8 9:30:00</td>
</tr>
</table>
</td></tr>
<tr><td>
<table width="100%" border="0" cellspacing="0" cellpadding="0">
<tr><td height="4" colspan="3"></td></tr>
<tr>
<td width="72%" align="left"><img src="/images/dot.gif" width="9" height="9" /> <a href="/htmlnews/2023/6/502301.shtm" target="_blank">专家建议完善科研经费“包干制”配套管理措施</a></td>
<td width="12%" align="center" class="author">孙宁</td>
<td width="16%" align="right" class="time">2023/6/6 14:12:38</td>
</tr>
</table>
</td></tr>
<tr><td>
<table width="100%" border="0" cellspacing="0" cellpadding="0">
<tr><td height="4" colspan="3"></td></tr>
<tr>
<td width="72%" align="left"><img src="/images/dot.gif" width="9" height="9" /> <a href="/sbhtmlnews/2023/6/376104.shtm" target="_blank">《中国科学报》今日导读（2023年6月6日）</a></td>
<td width="12%" align="center" class="author"></td>
<td width="16%" align="right" class="time">2023/6/6 7:50:12</td>
</tr>
</table>
</td></tr>
<tr><td>
<table width="100%" border="0" cellspacing="0" cellpadding="0">
<tr><td height="4" colspan="3"></td></tr>
<tr>
<td width="72%" align="left"><img src="/images/dot.gif" width="9" height="9" /> <a href="/htmlnews/2023/6/502143.shtm" target="_blank">长三角首个量超协同创新中心成立</a></td>
<td width="12%" align="center" class="author"></td>
<td width="16%" align="right" class="time">2023/6/3 10:21:45</td>
</tr>
</table>
</td></tr>
</table>
</div>
<div id="mleft4">共2页 当前第1页  <a href="indexyaowen-1.aspx">首页</a> <span disabled="disabled">上一页</span> <span><b>1</b></span> <a href="indexyaowen-2.aspx">2</a> <a href="indexyaowen-2.aspx">下一页</a> <a href="indexyaowen-2.aspx">尾页</a>  转到 <input type="text" name="AspNetPager1_input" id="AspNetPager1_input" value="1" style="width:30px" /> <input type="submit" name="AspNetPager1" value="Go" /></div>
</div>
<div id="mright">
<div class="rbox"><h3>一周新闻排行</h3><ul>
<li>·<a href="/htmlnews/2023/5/502389.shtm" target="_blank" title="国家重点研发计划重点专项项目申报指南公布">国家重点研发计划重点专项项目申报指南公布</a></li>
<li>·<a href="/htmlnews/2023/6/502352.shtm" target="_blank" title="中国科协发布年度十大科学问题">中国科协发布年度十大科学问题</a></li>
<li>·<a href="/htmlnews/2023/5/502315.shtm" target="_blank" title="研究揭示人类大脑发育的关键时间窗口">研究揭示人类大脑发育的关键时间窗口</a></li>
<li>·<a href="/htmlnews/2023/6/502278.shtm" target="_blank" title="科研人员开发出可降解的新型包装材料">科研人员开发出可降解的新型包装材料</a></li>
<li>·<a href="/htmlnews/2023/5/502241.shtm" target="_blank" title="国际合作团队绘制最精细银河系三维图">国际合作团队绘制最精细银河系三维图</a></li>
<li>·<a href="/htmlnews/2023/6/502204.shtm" target="_blank" title="院士专家共话基础研究与原始创新">院士专家共话基础研究与原始创新</a></li>
<li>·<a href="/htmlnews/2023/5/502167.shtm" target="_blank" title="全国科技活动周暨重大示范活动启动">全国科技活动周暨重大示范活动启动</a></li>
<li>·<a href="/htmlnews/2023/6/502130.shtm" target="_blank" title="首届青年科学家论坛在京举行">首届青年科学家论坛在京举行</a></li>
<li>·<a href="/htmlnews/2023/5/502093.shtm" target="_blank" title="科学家发现古人类迁徙新证据">科学家发现古人类迁徙新证据</a></li>
<li>·<a href="/htmlnews/2023/6/502056.shtm" target="_blank" title="我国自主研发的大型科研仪器通过验收">我国自主研发的大型科研仪器通过验收</a></li>
</ul></div>
<div class="rbox"><h3>一周新闻评论排行</h3><ul>
<li>·<a href="/htmlnews/2023/5/502377.shtm" target="_blank" title="院士专家共话基础研究与原始创新">院士专家共话基础研究与原始创新</a></li>
<li>·<a href="/htmlnews/2023/6/502340.shtm" target="_blank" title="全国科技活动周暨重大示范活动启动">全国科技活动周暨重大示范活动启动</a></li>
<li>·<a href="/htmlnews/2023/5/502303.shtm" target="_blank" title="首届青年科学家论坛在京举行">首届青年科学家论坛在京举行</a></li>
<li>·<a href="/htmlnews/2023/6/502266.shtm" target="_blank" title="科学家发现古人类迁徙新证据">科学家发现古人类迁徙新证据</a></li>
<li>·<a href="/htmlnews/2023/5/502229.shtm" target="_blank" title="我国自主研发的大型科研仪器通过验收">我国自主研发的大型科研仪器通过验收</a></li>
<li>·<a href="/htmlnews/2023/6/502192.shtm" target="_blank" title="专家呼吁加强科研伦理治理">专家呼吁加强科研伦理治理</a></li>
<li>·<a href="/htmlnews/2023/5/502155.shtm" target="_blank" title="高温超导材料研究获重要进展">高温超导材料研究获重要进展</a></li>
<li>·<a href="/htmlnews/2023/6/502118.shtm" target="_blank" title="农业科技创新助力粮食安全">农业科技创新助力粮食安全</a></li>
<li>·<a href="/htmlnews/2023/5/502081.shtm" target="_blank" title="生命科学领域国际学术会议开幕">生命科学领域国际学术会议开幕</a></li>
<li>·<a href="/htmlnews/2023/6/502044.shtm" target="_blank" title="科研诚信建设联席会议召开">科研诚信建设联席会议召开</a></li>
</ul></div>
<div class="rbox"><h3>编辑部推荐博文</h3><ul>
<li>·<a href="https://blog.sciencenet.cn/blog-3400-1390003.html" target="_blank">我国自主研发的大型科研仪器通过验收</a></li>
<li>·<a href="https://blog.sciencenet.cn/blog-3417-1390314.html" target="_blank">专家呼吁加强科研伦理治理</a></li>
<li>·<a href="https://blog.sciencenet.cn/blog-3434-1390625.html" target="_blank">高温超导材料研究获重要进展</a></li>
<li>·<a href="https://blog.sciencenet.cn/blog-3451-1390936.html" target="_blank">农业科技创新助力粮食安全</a></li>
<li>·<a href="https://blog.sciencenet.cn/blog-3468-1391247.html" target="_blank">生命科学领域国际学术会议开幕</a></li>
<li>·<a href="https://blog.sciencenet.cn/blog-3485-1391558.html" target="_blank">科研诚信建设联席会议召开</a></li>
<li>·<a href="https://blog.sciencenet.cn/blog-3502-1391869.html" target="_blank">海洋科学考察船完成首航科考任务</a></li>
<li>·<a href="https://blog.sciencenet.cn/blog-3519-1392180.html" target="_blank">新型疫苗研发取得阶段性成果</a></li>
</ul></div>
<div class="rbox"><h3>关注科学网</h3><ul><li><img src="/images/weixin_qrcode.jpg" width="120" height="120" alt="科学网微信公众号" /></li></ul></div>
</div>
</div>
<div class="sitemap">
<dl><dt>新闻</dt>
<dd><a href="https://www.sciencenet.cn/channel/000.aspx" target="_blank">动态</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/001.aspx" target="_blank">观点</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/002.aspx" target="_blank">国际</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/003.aspx" target="_blank">人才</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/004.aspx" target="_blank">高教</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/005.aspx" target="_blank">科普</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/006.aspx" target="_blank">要闻</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/007.aspx" target="_blank">图片新闻</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/008.aspx" target="_blank">今日新闻</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/009.aspx" target="_blank">专题</a></dd>
</dl>
<dl><dt>博客</dt>
<dd><a href="https://www.sciencenet.cn/channel/100.aspx" target="_blank">生命科学</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/101.aspx" target="_blank">医学科学</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/102.aspx" target="_blank">化学科学</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/103.aspx" target="_blank">工程材料</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/104.aspx" target="_blank">信息科学</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/105.aspx" target="_blank">地球科学</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/106.aspx" target="_blank">数理科学</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/107.aspx" target="_blank">管理综合</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/108.aspx" target="_blank">博客排行</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/109.aspx" target="_blank">博文精选</a></dd>
</dl>
<dl><dt>人才</dt>
<dd><a href="https://www.sciencenet.cn/channel/200.aspx" target="_blank">招聘信息</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/201.aspx" target="_blank">人才动态</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/202.aspx" target="_blank">高校招聘</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/203.aspx" target="_blank">科研院所</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/204.aspx" target="_blank">博士后</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/205.aspx" target="_blank">海外人才</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/206.aspx" target="_blank">求职指导</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/207.aspx" target="_blank">人才政策</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/208.aspx" target="_blank">院士风采</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/209.aspx" target="_blank">青年学者</a></dd>
</dl>
<dl><dt>会议</dt>
<dd><a href="https://www.sciencenet.cn/channel/300.aspx" target="_blank">会议信息</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/301.aspx" target="_blank">会议报道</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/302.aspx" target="_blank">会议日历</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/303.aspx" target="_blank">学术讲座</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/304.aspx" target="_blank">征文通知</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/305.aspx" target="_blank">展会</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/306.aspx" target="_blank">论坛</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/307.aspx" target="_blank">国际会议</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/308.aspx" target="_blank">会议预告</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/309.aspx" target="_blank">会议回顾</a></dd>
</dl>
<dl><dt>基金</dt>
<dd><a href="https://www.sciencenet.cn/channel/400.aspx" target="_blank">基金动态</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/401.aspx" target="_blank">项目指南</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/402.aspx" target="_blank">申报指导</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/403.aspx" target="_blank">结题信息</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/404.aspx" target="_blank">评审动态</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/405.aspx" target="_blank">基金政策</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/406.aspx" target="_blank">地区基金</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/407.aspx" target="_blank">青年基金</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/408.aspx" target="_blank">面上项目</a></dd>
<dd><a href="https://www.sciencenet.cn/channel/409.aspx" target="_blank">重点项目</a></dd>
</dl>
</div>
<div id="footer">
<a href="https://www.sciencenet.cn/aboutus/aboutus.aspx" target="_blank">关于我们</a> | <a href="https://www.sciencenet.cn/aboutus/statement.aspx" target="_blank">网站声明</a> | <a href="https://www.sciencenet.cn/aboutus/service.aspx" target="_blank">服务条款</a> | <a href="https://www.sciencenet.cn/aboutus/contact.aspx" target="_blank">联系方式</a> | <a href="https://www.sciencenet.cn/aboutus/ad.aspx" target="_blank">广告服务</a><br />
Copyright @ 2007-2023 中国科学报社 All Rights Reserved<br />
地址：北京市海淀区中关村南一条乙三号 邮箱：blog@stimes.cn<br />
<a href="https://beian.miit.gov.cn/" target="_blank">京ICP备07017567号-12</a> 京公网安备11010802032783
</div>
<script type="text/javascript">
var _hmt = _hmt || [];
(function() {
  var hm = document.createElement("script");
  hm.src = "https://hm.baidu.com/hm.js?0d1c2c4f8a4e0e1b9e3b6a5d7c8f9e01";
  var s = document.getElementsByTagName("script")[0];
  s.parentNode.insertBefore(hm, s);
})();
</script>

<div>
<input type="hidden" name="__VIEWSTATEGENERATOR" id="__VIEWSTATEGENERATOR" value="6D1A2F4B" />
</div></form>
</body>
</html>
