"""Invented names for generated test data (生成的测试数据): institutions, brands, trades.

Everything here is made up from parts. A few names are deliberately awkward, because
the site must escape and lay out whatever staff type: 50+ characters, markup
characters (`<`, `>`, `&`, quotes) and other scripts (Latin, Mongolian, Uyghur,
Tibetan, Korean). No name holds a long run of digits, so nothing here looks like a
phone, ID or bank-card number to the privacy guard.
"""

from __future__ import annotations

import random

# Two-character shop words: first × second gives 1,600 combinations.
WORD_FIRST = list("鸿金华新匠锦众恒瑞德博宏鑫盛达泰丰安康远嘉天银青云东海北南长兴和宁启明正源振通信汇")
WORD_SECOND = list("图川源达信诚艺技程航星辰峰晟翔宇桥禾林泽远邦睿业工坊岭湾谷雁鹰辉阳光山河田苑")

STREETS = ["建设路", "新华大街", "民族街", "团结路", "育才路", "工业路", "友谊大街", "胜利路", "文化路", "人民路",
           "振兴大街", "光明路", "和平路", "迎宾路", "锦绣路", "解放路", "中山路", "朝阳路", "长江路", "黄河路"]
ROOMS = ["实训楼B座", "二号楼三层", "综合楼东侧", "创业园A区", "产业园5号厂房"]

ENTERPRISE_TRADES = ["家政服务", "装备制造", "农业科技", "乳业", "建筑工程", "物流", "电子商务", "餐饮管理",
                     "健康管理", "新能源科技", "养老服务", "汽车服务", "文化旅游", "服饰", "牧业"]

# (occupation name) -> short form used inside brand names
SHORT_OCC = {
    "养老护理员": "养老护理", "家政服务员": "家政服务", "中式烹调师": "中式烹调", "中式面点师": "面点",
    "西式面点师": "西点", "西式烹调师": "西餐", "网约配送员": "骑手", "互联网营销师": "直播营销",
    "乳品加工工": "乳品加工", "家畜繁殖员": "家畜繁育", "农机驾驶操作员": "农机驾驶", "手工地毯制作工": "手工地毯",
    "少数民族医医师": "民族医适宜技术", "民族药师": "民族药炮制", "抽纱刺绣工": "刺绣", "民间工艺品制作工": "民族工艺",
    "汽车维修工": "汽修", "工业机器人系统运维员": "工业机器人运维", "工业机器人系统操作员": "工业机器人操作",
    "电池及电池系统维修保养师": "新能源电池维保", "挖掘铲运和桩工机械司机": "挖掘机驾驶",
    "起重装卸机械操作工": "起重机操作", "肉制品加工工": "肉制品加工", "家畜饲养员": "牛羊饲养",
    "特种动物养殖员": "特色养殖", "电子商务师": "电商", "保育师": "保育", "健康照护师": "健康照护",
    "农业技术员": "农技", "无人机驾驶员": "无人机", "农业数字化技术员": "数字农业", "乳品评鉴师": "乳品评鉴",
    "茶艺师": "茶艺", "汽车代驾员": "代驾", "快递员": "快递", "仓储管理员": "仓储", "物流服务师": "物流",
    "机修钳工": "钳工", "农机修理工": "农机维修", "工程机械维修工": "工程机械维修", "消防设施操作员": "消防设施操作",
    "保健按摩师": "保健按摩", "缝纫工": "服饰缝制", "婴幼儿发展引导员": "育婴", "糕点面包烘焙师": "烘焙",
    "电梯安装维修工": "电梯维保", "医疗护理员": "医疗护理", "老年人能力评估师": "老年能力评估", "咖啡师": "咖啡",
    "调饮师": "调饮", "美容师": "美容", "美发师": "美发", "美甲师": "美甲", "营养配餐员": "营养配餐",
    "毛皮及毛皮制品加工工": "皮毛加工", "动物疫病防治员": "动物防疫", "草地监护员": "草原管护",
}

FOCUS = {
    "key_industry": "电工 焊工 车工 机修钳工 工程机械维修工 电梯安装维修工 起重装卸机械操作工 挖掘铲运和桩工机械司机 "
                    "乳品加工工 肉制品加工工 乳品评鉴师 消防设施操作员 电池及电池系统维修保养师 砌筑工 钢筋工 架子工 防水工 "
                    "毛皮及毛皮制品加工工",
    "new_forms": "网约配送员 互联网营销师 快递员 快件处理员 汽车代驾员 健康照护师 物流服务师 仓储管理员 调饮师 咖啡师 "
                 "健康管理师 老年人能力评估师",
    "digital": "工业机器人系统运维员 工业机器人系统操作员 农业数字化技术员 无人机驾驶员 电子商务师",
    "western": "养老护理员 民宿管家 中式烹调师 西式烹调师 西式面点师 汽车维修工 少数民族医医师 民族药师 保健按摩师 "
               "医疗护理员 营养师 营养配餐员 美容师 美发师 美甲师 保安员 婴幼儿发展引导员 糕点面包烘焙师",
    "rural": "家政服务员 中式面点师 家畜繁殖员 家畜饲养员 特种动物养殖员 农机驾驶操作员 农机修理工 农业技术员 农业经理人 "
             "手工地毯制作工 抽纱刺绣工 民间工艺品制作工 缝纫工 动物疫病防治员 动物检疫检验员 兽医 畜牧技术人员 "
             "草业技术人员 草地监护员 评茶师",
}
FOCUS_OF = {occupation: area for area, names in FOCUS.items() for occupation in names.split()}  # 保育师, 茶艺师: none

KEY_SUPPORT = {
    "heritage": "抽纱刺绣工 手工地毯制作工 民间工艺品制作工 少数民族医医师 民族药师 毛皮及毛皮制品加工工 评茶师 茶艺师",
    "rural_industry": "家畜繁殖员 特种动物养殖员 农业经理人 家畜饲养员 草业技术人员 草地监护员 畜牧技术人员 农业技术员",
    "key_technology": "工业机器人系统运维员 工业机器人系统操作员 电池及电池系统维修保养师 电梯安装维修工",
    "recognised_trade": "乳品评鉴师 西式面点师 中式烹调师 焊工 养老护理员 中式面点师 糕点面包烘焙师",
    "innovation": "无人机驾驶员 农业数字化技术员 互联网营销师 电子商务师 健康照护师",
}
KEY_SUPPORT_OF = {occupation: category for category, names in KEY_SUPPORT.items() for occupation in names.split()}

# Local trades (工种) outside the classification: published with a name and no code.
LOCAL_TRADES = {
    "150000": ["蒙古族传统奶食制作工", "驼绒手工编织工"], "650000": ["维吾尔族传统乐器制作工", "馕制作工"],
    "540000": ["藏香制作工", "唐卡绘制工"], "630000": ["藏毯编织工"], "520000": ["苗绣制作工", "蜡染制作工"],
    "450000": ["壮锦织造工", "螺蛳粉制作工"], "460000": ["黎锦织造工"], "360000": ["陶瓷彩绘工"],
    "530000": ["普洱茶制茶工", "鲜花饼制作工"], "220000": ["朝鲜族泡菜制作工"], "510000": ["川菜调料制作工"],
}
LOCAL_TRADES_ANY = ["传统小吃制作工", "非遗手工技艺传承工", "地方特色糕点制作工"]

# Words in other scripts, with where they are most likely.
SCRIPTS = {
    "mongolian": ("150000", ["ᠮᠣᠩᠭᠣᠯ", "ᠰᠤᠷᠭᠠᠭᠤᠯᠢ"]),
    "uyghur": ("650000", ["ئۇيغۇر", "مەكتەپ", "تېخنىكا"]),
    "tibetan": ("540000", ["བོད་", "སློབ་གྲྭ"]),
    "korean": ("220000", ["조선족", "학교"]),
}
SCRIPT_OF_PROVINCE = {"150000": "mongolian", "650000": "uyghur", "540000": "tibetan", "630000": "tibetan",
                      "220000": "korean"}
LATIN = ["AI", "Pro", "Academy", "IT", "5G", "VR", "Skills Lab", "e-Learning", "O2O", "3D"]

LONG_TAILS = ["暨就业重点群体职业技能提升行动示范培训项目", "（校企合作·产教融合·订单定向培养专班）",
              "乡村振兴技能人才培养示范基地", "“技能中国行动”专项培训项目", "现代服务业与先进制造业融合发展实训中心"]
LONG_INSTITUTION_TAILS = ["（国家级高技能人才培训基地·省级公共实训基地）", "暨现代服务业与先进制造业融合发展职业技能培训中心",
                          "（产教融合实训基地）乡村振兴人才培养学院", "（原县劳动就业训练中心、县农民工培训学校）",
                          "暨退役军人及农村转移劳动力就业技能培训基地"]

BRAND_TEMPLATES = ["“{w}{o}”职业技能培训品牌", "{w}{o}培训", "“{w}{o}”技能培训", "{w}{o}订单式培训",
                   "“{w}”{o}培训品牌", "{w}·{o}技能培训", "{place}{o}技能培训", "{w}{o}实训营"]
MARKUP_BRANDS = ["“<{w}>{o}”培训品牌", "{w}&{v}{o}联合培训", "\"{w}\"{o}技能培训", "{w}{o}培训 <b>示范</b>",
                 "{w}'s {o} 工坊", "{w}{o}培训<script>alert(1)</script>", "{o} & {w} 订单班 <2.0>"]
MARKUP_INSTITUTIONS = ["{place}\"{w}&{v}\"职业技能培训学校", "{place}<{w}>职业培训学校", "{place}{w}'技能'工坊 & 培训中心",
                       "{place}{w}职业培训学校 </td><td>", "{place}“{w}”&amp;{v}培训有限公司"]


def word(rng: random.Random) -> str:
    return rng.choice(WORD_FIRST) + rng.choice(WORD_SECOND)


def short_occupation(name: str) -> str:
    return SHORT_OCC.get(name, name)


def lengthen(text: str, rng: random.Random, tails: list[str], minimum: int = 50) -> str:
    """Add official-sounding tails until the name is at least `minimum` characters."""
    tails = tails[:]
    rng.shuffle(tails)
    for tail in tails:
        if len(text) >= minimum:
            break
        text += tail
    return text


def scripted(text: str, province: str, rng: random.Random) -> str:
    """Mix another script into a name: the region's own script where it has one, else any."""
    roll = rng.random()
    if roll < 0.35:
        return f"{text} {rng.choice(LATIN)}"
    script = SCRIPT_OF_PROVINCE.get(province) if roll < 0.7 else None
    words = SCRIPTS[script or rng.choice(sorted(SCRIPTS))][1]
    return f"{text}（{rng.choice(words)}）" if rng.random() < 0.5 else f"{rng.choice(words)} {text}"


def odd_name(plain: str, markup_templates: list[str], tails: list[str], province: str, rng: random.Random,
             **parts: str) -> str:
    """A plain name most of the time; sometimes a long, markup or mixed-script one."""
    roll = rng.random()
    if roll < 0.035:
        return lengthen(plain, rng, tails)
    if roll < 0.05:
        return rng.choice(markup_templates).format(**parts)
    boost = 0.06 if province in SCRIPT_OF_PROVINCE else 0.0
    if roll < 0.07 + boost:
        return scripted(plain, province, rng)
    return plain


def institution_name(kind: str, place: str, province: str, w: str, trade: str, rng: random.Random) -> str:
    if kind == "school":
        plain = f"{place}{w}{rng.choice(['技工学校', '高级技工学校', '技师学院'])}"
    elif kind == "vocational_college":
        plain = f"{place}{w}{rng.choice(['职业技术学院', '职业中等专业学校', '职业学院'])}"
    elif kind == "enterprise":
        plain = f"{place}{w}{trade}有限公司"
    elif kind == "online_platform":
        plain = f"{place}{w}{rng.choice(['网络科技有限公司', '在线职业技能培训平台'])}"
    elif kind == "assessment_body":
        plain = f"{place}{w}职业技能评价服务中心"
    else:
        plain = f"{place}{w}{rng.choice(['职业技能培训学校', '职业培训学校', '培训中心'])}"
    return odd_name(plain, MARKUP_INSTITUTIONS, LONG_INSTITUTION_TAILS, province, rng, place=place, w=w, v=word(rng))


def brand_name(w: str, occupation: str, place: str, province: str, rng: random.Random) -> str:
    o = short_occupation(occupation)
    plain = rng.choice(BRAND_TEMPLATES).format(w=w, o=o, place=place)
    return odd_name(plain, MARKUP_BRANDS, LONG_TAILS, province, rng, w=w, o=o, v=word(rng))
