#!/usr/bin/env python3
"""(Re)write the sample data in datasets/*.csv (示例数据: every organisation is invented).

Deterministic: one `random.Random(2022)`, every loop runs over lists in a fixed
order, and nothing reads the clock, so two runs give byte-identical files.
Region and occupation codes are copied from the reference lists (real codes);
institutions, brands, outcomes and exits are generated. The field order comes
from datasets/datapackage.json, which this script never changes. After writing,
the files are read back and checked against the rules of seed 000
(内人社办发〔2022〕213号); see `check()`.

    python scripts/make_sample.py [--reference DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATASETS = REPO / "datasets"
# the code lists copied into the repository (reference/README.md gives their sources)
DEFAULT_REFERENCE = Path(os.environ.get("SKILLBRANDS_REFERENCE", REPO / "reference"))

sys.path.insert(0, str(REPO))  # runs from a checkout even where skillbrands is not installed
from skillbrands.creditcode import check_character  # noqa: E402
PROVINCE = "150000"
YEARS = (2023, 2024, 2025)  # directories published in the sample
LAST_DATA_YEAR = 2025  # no outcome figures after this year
TIERS = ("province", "prefecture", "county")

# --- places -------------------------------------------------------------------
# prefecture code -> (slug, HRSS document prefix, telephone area code)
PREFECTURES: dict[str, tuple[str, str, str]] = {
    "150100": ("hh", "呼人社", "0471"), "150200": ("bt", "包人社", "0472"),
    "150300": ("wh", "乌海人社", "0473"), "150400": ("cf", "赤人社", "0476"),
    "150500": ("tl", "通人社", "0475"), "150600": ("eeds", "鄂人社", "0477"),
    "150700": ("hlbe", "呼伦贝尔人社", "0470"), "150800": ("bynr", "巴人社", "0478"),
    "150900": ("wlcb", "乌人社", "0474"), "152200": ("xa", "兴安盟人社", "0482"),
    "152500": ("xl", "锡盟人社", "0479"), "152900": ("als", "阿盟人社", "0483"),
}
# County document prefixes that the generic rule in `county_doc_prefix` gets
# wrong or makes ambiguous (several 科…中旗, 鄂…旗, 阿…旗 …).
COUNTY_DOC_OVERRIDES = {
    "和林格尔县": "和林", "托克托县": "托县", "清水河县": "清水河", "海勃湾区": "海勃湾区",
    "海拉尔区": "海拉尔区", "达尔罕茂明安联合旗": "达茂旗", "达拉特旗": "达旗",
    "扎鲁特旗": "扎旗", "扎赉特旗": "扎赉特旗", "科尔沁左翼中旗": "科左中旗",
    "科尔沁右翼中旗": "科右中旗", "科尔沁右翼前旗": "科右前旗", "科尔沁左翼后旗": "科左后旗",
    "鄂托克旗": "鄂托克旗", "鄂伦春自治旗": "鄂伦春旗", "鄂温克族自治旗": "鄂温克旗",
    "阿鲁科尔沁旗": "阿旗", "阿巴嘎旗": "阿巴嘎旗", "东乌珠穆沁旗": "东乌旗",
    "西乌珠穆沁旗": "西乌旗", "察哈尔右翼前旗": "察右前旗", "察哈尔右翼中旗": "察右中旗",
    "察哈尔右翼后旗": "察右后旗", "元宝山区": "元宝山区", "白云鄂博矿区": "白云区",
    "康巴什区": "康巴什区", "扎赉诺尔区": "扎赉诺尔区", "正镶白旗": "正镶白旗",
}
STREETS = ["建设路", "新华大街", "民族街", "团结路", "育才路", "工业路", "友谊大街", "胜利路",
           "文化路", "人民路", "振兴大街", "光明路", "和平路", "迎宾路", "锦绣路", "草原路"]

# --- institutions (all invented) ------------------------------------------------
# slug, kind, county code, name, brand word (used in brand names), trades ("|"-separated
# occupation names; a name not in the classification is a local 工种 with no code).
INSTITUTIONS: list[tuple[str, str, str, str, str, str]] = [
    ("hh-jiangxin-gongfang", "private", "150105", '呼和浩特市"匠心&工坊"职业技能培训学校', "匠心", "中式烹调师|中式面点师|西式面点师"),
    ("hh-beiyuan-zhiyuan", "vocational_college", "150102", "呼和浩特北垣职业技术学院", "北垣", "养老护理员|健康照护师|电子商务师|汽车维修工"),
    ("hh-yunjitong-wangluo", "online_platform", "150105", "内蒙古云技通网络科技有限公司", "云技通", "互联网营销师|电子商务师"),
    ("hh-hengzhun-pingjia", "assessment_body", "150103", "呼和浩特市衡准职业技能评价服务中心", "衡准", "保育师|茶艺师|养老护理员"),
    ("hh-chichuanyuan-ruye", "enterprise", "150121", "呼和浩特市敕川源乳业有限公司", "敕川源", "乳品加工工|乳品评鉴师"),
    ("hh-jinchuan-jigong", "school", "150103", "呼和浩特市金川技工学校", "金川", "电工|焊工|工业机器人系统操作员"),
    ("bt-beichen-peixun", "private", "150203", "包头市北辰职业技能培训学校", "北辰", "焊工|电工|起重装卸机械操作工"),
    ("bt-gangcheng-jigong", "school", "150204", "包头市钢城高级技工学校", "钢城", "焊工|机修钳工|车工|工业机器人系统运维员"),
    ("bt-luyuan-zhiyuan", "vocational_college", "150207", "包头鹿苑职业技术学院", "鹿苑", "工业机器人系统操作员|电池及电池系统维修保养师|电工|汽车维修工"),
    ("bt-xifeng-zhuangbei", "enterprise", "150206", "包头市稀峰装备制造有限公司", "稀峰", "起重装卸机械操作工|焊工|挖掘铲运和桩工机械司机"),
    ("bt-kunhe-jiazheng", "private", "150203", "包头市昆都仑区昆河家政职业技能培训学校", "昆河", "家政服务员|养老护理员|中式面点师"),
    ("bt-fengsui-nongmu", "private", "150221", "土默特右旗丰穗农牧技能培训学校", "丰穗", "农机驾驶操作员|家畜饲养员|中式烹调师"),
    ("wh-gandeer-jigong", "school", "150302", "乌海市甘德尔技工学校", "甘德尔", "电工|焊工|汽车维修工|工程机械维修工"),
    ("wh-hengyan-nengyuan", "enterprise", "150304", "乌海市乌达区恒焰能源化工有限公司", "恒焰", "电工|消防设施操作员|起重装卸机械操作工"),
    ("wh-huanghewan-peixun", "private", "150303", "乌海市黄河湾职业技能培训学校", "黄河湾", "中式烹调师|家政服务员|汽车代驾员"),
    ("wh-puxiang-peixun", "private", "150302", "乌海市葡香职业技能培训学校", "葡香", "中式面点师|民宿管家"),
    ("cf-qiaoshou-jiazheng", "enterprise", "150402", "赤峰市红山区巧手家政服务有限公司", "巧手", "家政服务员|养老护理员|保育师"),
    ("cf-yulong-jigong", "school", "150404", "赤峰市玉龙技工学校", "玉龙", "电工|焊工|汽车维修工|机修钳工"),
    ("cf-woye-nongye", "private", "150429", "宁城县沃野农业技能培训学校", "沃野", "农业技术员|农机驾驶操作员|农业经理人"),
    ("cf-guxiang-miandian", "private", "150430", "敖汉旗谷香面点职业技能培训学校", "谷香", "中式面点师|中式烹调师"),
    ("cf-yunshan-minsu", "private", "150425", "克什克腾旗云杉民宿服务技能培训学校", "云杉", "民宿管家|民间工艺品制作工"),
    ("cf-huangshui-zhiyuan", "vocational_college", "150402", "赤峰潢水职业技术学院", "潢水", "养老护理员|电子商务师|无人机驾驶员"),
    ("tl-bogeda-mengyi", "private", "150502", "通辽市博格达蒙医药职业技能培训学校", "博格达", "少数民族医医师|民族药师|保健按摩师"),
    ("tl-xiaozhuanghe-jigong", "school", "150502", "通辽市孝庄河技工学校", "孝庄河", "电工|焊工|汽车维修工"),
    ("tl-qinyuan-niuye", "enterprise", "150521", "通辽市科左中旗沁源牧歌牛业有限公司", "沁源牧歌", "家畜繁殖员|家畜饲养员|肉制品加工工"),
    ("tl-honghe-nongji", "private", "150523", "开鲁县红禾农机技能培训学校", "红禾", "农机驾驶操作员|农机修理工|农业技术员"),
    ("tl-andai-cixiu", "private", "150524", "库伦旗安代刺绣技能培训学校", "安代", "抽纱刺绣工|民间工艺品制作工"),
    ("eeds-hongtu-jigong", "school", "150602", "鄂尔多斯市东胜区鸿图技工学校", "鸿图", "电工|焊工|汽车维修工"),
    ("eeds-hongyan-zhiyuan", "vocational_college", "150603", "鄂尔多斯鸿雁职业技术学院", "鸿雁", "电池及电池系统维修保养师|工业机器人系统运维员|无人机驾驶员"),
    ("eeds-yutai-kuangji", "enterprise", "150622", "准格尔旗煜泰矿山机械有限公司", "煜泰", "挖掘铲运和桩工机械司机|工程机械维修工|起重装卸机械操作工"),
    ("eeds-jintuo-ditan", "enterprise", "150627", "伊金霍洛旗金驼手工地毯有限公司", "金驼", "手工地毯制作工|抽纱刺绣工"),
    ("eeds-salawusu-minsu", "private", "150626", "乌审旗萨拉乌苏民宿服务技能培训学校", "萨拉乌苏", "民宿管家|中式烹调师"),
    ("eeds-nuanxin-jiazheng", "private", "150621", "达拉特旗暖心家政职业技能培训学校", "暖心", "家政服务员|养老护理员|网约配送员"),
    ("hlbe-yiminhe-jigong", "school", "150702", "呼伦贝尔市伊敏河技工学校", "伊敏河", "电工|中式烹调师|汽车维修工"),
    ("hlbe-yaluhe-zhongzhuan", "vocational_college", "150783", "扎兰屯市雅鲁河职业中等专业学校", "雅鲁河", "农机驾驶操作员|农业技术员|养老护理员"),
    ("hlbe-sanheyuan-ruye", "enterprise", "150784", "额尔古纳市三河源乳业有限公司", "三河源", "乳品加工工|乳品评鉴师"),
    ("hlbe-beijiang-lvyou", "private", "150781", "满洲里市北疆之窗旅游服务职业技能培训学校", "北疆之窗", "民宿管家|西式面点师|中式烹调师"),
    ("hlbe-bayantuohai-muye", "private", "150724", "鄂温克族自治旗巴彦托海牧业技能培训学校", "巴彦托海", "家畜饲养员|家畜繁殖员|民间工艺品制作工|特种动物养殖员"),
    ("bynr-langshan-jigong", "school", "150802", "巴彦淖尔市狼山技工学校", "狼山", "电工|焊工|农机修理工"),
    ("bynr-jinmaisui-nongye", "enterprise", "150821", "五原县金麦穗农业科技有限公司", "金麦穗", "农业技术员|农业经理人|农业数字化技术员"),
    ("bynr-shanba-dianshang", "private", "150826", "杭锦后旗陕坝电商职业技能培训学校", "陕坝", "互联网营销师|电子商务师"),
    ("bynr-lvye-rouye", "enterprise", "150823", "乌拉特前旗绿野肉业有限公司", "绿野", "肉制品加工工|家畜饲养员"),
    ("bynr-maixiang-miandian", "private", "150802", "巴彦淖尔市临河区麦香面点职业技能培训学校", "麦香", "中式面点师|中式烹调师|互联网营销师"),
    ("wlcb-chahar-jiazheng", "private", "150902", "乌兰察布市集宁区察哈尔家政职业技能培训学校", "察哈尔", "家政服务员|养老护理员|保育师"),
    ("wlcb-lugangtong-wuliu", "enterprise", "150902", "乌兰察布市陆港通供应链有限公司", "陆港通", "仓储管理员|物流服务师|网约配送员|快递员"),
    ("wlcb-shuxiang-nongye", "enterprise", "150923", "商都县薯乡农业发展有限公司", "薯乡", "农业技术员|农机驾驶操作员"),
    ("wlcb-xuegangshan-jigong", "school", "150981", "丰镇市薛刚山技工学校", "薛刚山", "电工|焊工|中式烹调师"),
    ("wlcb-daihai-minsu", "private", "150925", "凉城县岱海民宿服务职业技能培训学校", "岱海", "民宿管家|中式面点师"),
    ("xa-taoerhe-jigong", "school", "152201", "兴安盟洮儿河技工学校", "洮儿河", "电工|焊工|汽车维修工|养老护理员"),
    ("xa-fenghe-nongji", "private", "152221", "科尔沁右翼前旗丰禾农机技能培训学校", "丰禾", "农机驾驶操作员|农业技术员"),
    ("xa-chuoerhe-miye", "enterprise", "152223", "扎赉特旗绰尔河米业有限公司", "绰尔河", "农业经理人|电子商务师|农业技术员"),
    ("xa-tushiyetu-cixiu", "private", "152222", "科尔沁右翼中旗图什业图刺绣技能培训学校", "图什业图", "抽纱刺绣工|缝纫工"),
    ("xa-linhai-minsu", "private", "152202", "阿尔山市林海民宿服务技能培训学校", "林海", "民宿管家|中式烹调师"),
    ("xl-xilinhe-jigong", "school", "152502", "锡林郭勒盟锡林河技工学校", "锡林河", "电工|焊工|汽车维修工"),
    ("xl-wuzhumuqin-naishi", "enterprise", "152525", "东乌珠穆沁旗乌珠穆沁奶食品有限公司", "乌珠穆沁", "乳品加工工|乳品评鉴师"),
    ("xl-haoletu-muye", "enterprise", "152522", "阿巴嘎旗浩勒图牧业有限公司", "浩勒图", "家畜繁殖员|肉制品加工工|家畜饲养员"),
    ("xl-jinlianchuan-gongyi", "private", "152530", "正蓝旗金莲川民族手工艺技能培训学校", "金莲川", "手工地毯制作工|民间工艺品制作工|抽纱刺绣工|蒙古族传统奶食制作工"),
    ("xl-kouan-shangmao", "private", "152501", "二连浩特市口岸商贸职业技能培训学校", "口岸", "仓储管理员|电子商务师|汽车代驾员"),
    ("xl-caoyuan-qiaoshou", "private", "152527", "太仆寺旗草原巧手家政服务培训学校", "草原巧手", "家政服务员|养老护理员"),
    ("als-tenggeli-jigong", "school", "152921", "阿拉善盟腾格里技工学校", "腾格里", "电工|焊工|中式烹调师"),
    ("als-tuoxiang-muye", "enterprise", "152922", "阿拉善右旗驼乡牧业有限公司", "驼乡", "特种动物养殖员|乳品加工工"),
    ("als-huyang-minsu", "private", "152923", "额济纳旗胡杨林民宿服务技能培训学校", "胡杨林", "民宿管家|中式烹调师"),
    ("als-bayanhaote-gongyi", "private", "152921", "阿拉善左旗巴彦浩特民族工艺技能培训学校", "巴彦浩特", "民间工艺品制作工|抽纱刺绣工|民族药师|驼绒手工编织工"),
    ("als-shahai-wurenji", "enterprise", "152921", "阿拉善盟沙海无人机科技有限公司", "沙海", "无人机驾驶员|农业数字化技术员"),
]
# Seeds 001/004: institutions are suspended for violations or removed from the list.
STATUS = {
    "bynr-shanba-dianshang": ("suspended", date(2025, 5, 20), "招生宣传中承诺“包拿证、包补贴”，存在虚假宣传、违规招生行为，暂停承训资格"),
    "wh-puxiang-peixun": ("removed", date(2025, 3, 18), "机构申请终止办学并注销办学许可证，移出培训机构目录"),
}
COMMA_ADDRESS = {"eeds-hongtu-jigong": "鄂尔多斯市东胜区铁西路16号,实训楼B座"}  # exercises CSV quoting
CREDIT_TYPE = {"school": "12", "vocational_college": "12", "private": "52", "assessment_body": "52",
               "enterprise": "91", "online_platform": "91"}  # GB 32100: 12 事业单位, 52 民非, 91 企业

# --- brands -------------------------------------------------------------------------
# Per prefecture: (province brands chosen from its prefecture brands, province brands
# without a recorded source, county->prefecture promotions, county brands). Every
# prefecture publishes 5 prefecture-tier brands. Totals: 20 / 60 / 90.
QUOTAS = {"150100": (2, 1, 1, 8), "150200": (2, 1, 2, 8), "150300": (1, 0, 1, 4),
          "150400": (1, 1, 2, 10), "150500": (1, 1, 2, 8), "150600": (2, 0, 2, 9),
          "150700": (1, 0, 2, 9), "150800": (1, 0, 1, 7), "150900": (1, 0, 2, 8),
          "152200": (1, 0, 1, 6), "152500": (1, 1, 2, 8), "152900": (1, 0, 1, 5)}
PREFECTURE_BRANDS_EACH = 5
# (institution, occupation) -> fixed path: tier letter and year. Pinned because other
# rows depend on them: status dates, blank occupation codes, the awkward name.
PINNED = {
    ("hh-yunjitong-wangluo", "互联网营销师"): ("P", 2024),
    ("bynr-shanba-dianshang", "互联网营销师"): ("F", 2024),  # exits for violation
    ("bynr-shanba-dianshang", "电子商务师"): ("C", 2023),
    ("wh-puxiang-peixun", "中式面点师"): ("C", 2023),  # exits: institution closed
    ("xl-jinlianchuan-gongyi", "蒙古族传统奶食制作工"): ("C", 2024),  # local 工种, no code
    ("als-bayanhaote-gongyi", "驼绒手工编织工"): ("C", 2025),  # local 工种, no code
    ("xl-xilinhe-jigong", "焊工"): ("F", 2024),
}
NAME_OVERRIDES = {("xl-xilinhe-jigong", "焊工"): "“<草原>焊工”培训品牌"}  # exercises HTML escaping
NAME_TEMPLATES = ["“{w}{o}”职业技能培训品牌", "{w}{o}培训", "“{w}{o}”技能培训", "{w}{o}订单式培训",
                  "“{w}”{o}培训品牌", "{w}·{o}技能培训"]
SHORT_OCC = {"养老护理员": "养老护理", "家政服务员": "家政服务", "中式烹调师": "中式烹调", "中式面点师": "面点",
             "西式面点师": "西点", "网约配送员": "骑手", "互联网营销师": "直播营销", "乳品加工工": "乳品加工",
             "家畜繁殖员": "家畜繁育", "农机驾驶操作员": "农机驾驶", "手工地毯制作工": "手工地毯",
             "少数民族医医师": "蒙医适宜技术", "民族药师": "蒙药炮制", "抽纱刺绣工": "蒙古族刺绣",
             "民间工艺品制作工": "民族工艺", "汽车维修工": "汽修", "工业机器人系统运维员": "工业机器人运维",
             "工业机器人系统操作员": "工业机器人操作", "电池及电池系统维修保养师": "新能源电池维保",
             "挖掘铲运和桩工机械司机": "挖掘机驾驶", "起重装卸机械操作工": "起重机操作", "肉制品加工工": "肉制品加工",
             "家畜饲养员": "牛羊饲养", "特种动物养殖员": "特色养殖", "电子商务师": "电商", "民宿管家": "民宿管家",
             "保育师": "保育", "健康照护师": "健康照护", "农业技术员": "农技", "农业经理人": "农业经理人",
             "无人机驾驶员": "无人机", "农业数字化技术员": "数字农业", "乳品评鉴师": "乳品评鉴", "茶艺师": "茶艺",
             "汽车代驾员": "代驾", "快递员": "快递", "仓储管理员": "仓储", "物流服务师": "物流", "机修钳工": "钳工",
             "农机修理工": "农机维修", "工程机械维修工": "工程机械维修", "消防设施操作员": "消防设施操作",
             "保健按摩师": "蒙医按摩", "缝纫工": "民族服饰缝制", "蒙古族传统奶食制作工": "蒙古族奶食",
             "驼绒手工编织工": "驼绒编织", "婴幼儿发展引导员": "育婴"}
FOCUS = {"key_industry": "焊工 电工 车工 机修钳工 工程机械维修工 起重装卸机械操作工 挖掘铲运和桩工机械司机 乳品加工工 "
                         "肉制品加工工 乳品评鉴师 消防设施操作员 电池及电池系统维修保养师",
         "new_forms": "网约配送员 互联网营销师 快递员 汽车代驾员 健康照护师 物流服务师 仓储管理员",
         "digital": "工业机器人系统运维员 工业机器人系统操作员 农业数字化技术员 无人机驾驶员 电子商务师",
         "western": "养老护理员 民宿管家 中式烹调师 西式面点师 汽车维修工 少数民族医医师 民族药师 保健按摩师",
         "rural": "家政服务员 中式面点师 家畜繁殖员 家畜饲养员 特种动物养殖员 农机驾驶操作员 农机修理工 农业技术员 农业经理人 "
                  "手工地毯制作工 抽纱刺绣工 民间工艺品制作工 缝纫工 蒙古族传统奶食制作工 驼绒手工编织工"}
FOCUS_OF = {occ: area for area in FOCUS for occ in FOCUS[area].split()}  # 保育师, 茶艺师: no focus area
KEY_SUPPORT_OF = {"heritage": "抽纱刺绣工 手工地毯制作工 民间工艺品制作工 少数民族医医师 民族药师 蒙古族传统奶食制作工 驼绒手工编织工",
                  "rural_industry": "家畜繁殖员 特种动物养殖员 农业经理人 家畜饲养员",
                  "key_technology": "工业机器人系统运维员 电池及电池系统维修保养师",
                  "recognised_trade": "乳品评鉴师 西式面点师",
                  "innovation": "无人机驾驶员 农业数字化技术员"}
KEY_SUPPORT_CATEGORY = {occ: cat for cat in KEY_SUPPORT_OF for occ in KEY_SUPPORT_OF[cat].split()}
N_KEY_SUPPORT = 17

# Seed 000 criteria on the evaluated (previous) year: trainees, pass rate, employment
# rate, subsidised key-group trainees, order-based share. County criteria are local.
CRITERIA = {"province": (400, 0.90, 0.70, 200, 0.50), "prefecture": (200, 0.85, 0.60, 100, 0.40)}
# Drawing ranges per scale level: trainees, pass rate, employment rate, subsidised
# share, order-based share; chosen with a margin above the criteria.
LEVELS = {"province": ((420, 900), (0.91, 0.98), (0.72, 0.90), (0.50, 0.75), (0.52, 0.80)),
          "prefecture": ((210, 400), (0.86, 0.97), (0.62, 0.86), (0.50, 0.80), (0.42, 0.75)),
          "county": ((40, 220), (0.80, 0.95), (0.55, 0.85), (0.25, 0.70), (0.10, 0.60)),
          "key_support": ((40, 150), (0.85, 0.97), (0.72, 0.92), (0.30, 0.70), (0.20, 0.60))}
LIST_MONTHS = {"county": (6, 7), "prefecture": (9, 10), "province": (11, 12)}

SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")


def uscc_check(first17: str) -> str:
    """Check character of a unified social credit code (GB 32100-2015): the engine's own."""
    check = check_character(first17)
    assert check is not None, first17
    return check


def org_code(rng: random.Random, prefix: str) -> str:
    """9-character organisation code (GB 11714) with its own check character."""
    # old-style codes are all digits; codes issued since 2015 start with MA/MB/MJ and mix in letters
    chars = "0123456789" * 6 + "ABCDEFGHJKLMNPQRTUWXY" if prefix else "0123456789"
    body = prefix + "".join(rng.choice(chars) for _ in range(8 - len(prefix)))
    value = lambda c: int(c) if c.isdigit() else ord(c) - ord("A") + 10  # noqa: E731
    c9 = 11 - sum(value(c) * w for c, w in zip(body, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
    return body + {10: "X", 11: "0"}.get(c9, str(c9))


def county_doc_prefix(name: str) -> str:
    """A plausible abbreviation for a county HRSS bureau's documents, e.g. 昆区人社发."""
    if name in COUNTY_DOC_OVERRIDES:
        return COUNTY_DOC_OVERRIDES[name] + "人社发"
    core, kind = name, ""
    for suffix in ("自治旗", "旗", "区", "县", "市"):
        if core.endswith(suffix):
            core, kind = core[: -len(suffix)], suffix[-1]
            break
    if len(core) > 2:
        core = core[0] + core[-1] if core[-1] in "左右前中后" else core[0]
    return core + ("" if kind == "县" else kind) + "人社发"


@dataclass(eq=False)  # identity semantics: programmes and brands refer to each other
class Programme:
    """One institution x occupation; its yearly figures are shared by all its brands."""
    inst: dict[str, str]
    occ_name: str
    occ_code: str
    name: str = ""
    brands: list[Brand] = field(default_factory=list)
    key_support: str = ""  # category, or "" when not key support
    outcomes: dict[int, list[int]] = field(default_factory=dict)  # year -> 5 counts


@dataclass(eq=False)
class Brand:
    prog: Programme
    tier: str
    region: str
    year: int
    source: Brand | None = None
    brand_id: str = ""
    published: date | None = None
    document_no: str = ""


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(path: Path, fields: list[str], rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")  # QUOTE_MINIMAL is the default
        writer.writerow(fields)
        for row in rows:
            assert list(row) == fields, (path.name, list(row))
            writer.writerow(["" if v is None else v for v in row.values()])


#: what happened after the frozen editions were published (corrections.csv), applied to the generated
#: rows after every random draw, so the rest of the sample stays as it was
CORRECTIONS = [
    {"date": "2026-03-16", "table": "institutions", "key": "als-tenggeli-jigong", "field": "name",
     "old_value": "阿拉善盟腾格里技工学校", "new_value": "阿拉善盟腾格里技师学院", "kind": "change",
     "reason": "经批准，学校升格为技师学院并更名（示例）", "document_no": "内人社函〔2026〕15号"},
    {"date": "2026-05-08", "table": "institutions", "key": "hh-beiyuan-zhiyuan", "field": "phone",
     "old_value": "0471-5070022", "new_value": "0471-5070088", "kind": "change",
     "reason": "机构更换联系电话（示例）", "document_no": None},
]


def apply_corrections(institutions: list[dict[str, object]]) -> list[dict[str, object]]:
    """Apply CORRECTIONS to the generated institutions; return them as corrections.csv's rows."""
    for c in CORRECTIONS:
        row = next(r for r in institutions if r["institution_id"] == c["key"])
        assert row[c["field"]] == c["old_value"], (c, row[c["field"]])
        row[c["field"]] = c["new_value"]
    return [dict(c) for c in CORRECTIONS]


class Generator:
    def __init__(self, reference: Path) -> None:
        self.rng = random.Random(2022)
        regions = read_csv(reference / "regions_cn_2024.csv")
        prefs = [r["code"] for r in regions if r["parent_code"] == PROVINCE]
        self.regions = [r for r in regions if r["code"] == PROVINCE or r["code"] in prefs or r["parent_code"] in prefs]
        self.region = {r["code"]: r for r in self.regions}
        self.counties = {p: [r["code"] for r in self.regions if r["parent_code"] == p] for p in prefs}
        self.occupations = [{"code": r["code"], "name": r["name"]} for r in read_csv(reference / "occupations_2022.csv")]
        self.occ_code = {o["name"]: o["code"] for o in self.occupations}
        self.docs: dict[tuple[str, int, str], str] = {}  # (issuer, year, purpose) -> document number
        self.used_numbers: set[tuple[str, int, int]] = set()
        self.doc_dates: dict[str, date] = {}  # exit notice -> its date (shared by its exits)
        issuers = [self.issuer(r["level"], r["code"]) for r in self.regions]
        assert len(set(issuers)) == len(issuers), "document prefixes must identify the issuer"

    def pref_of(self, code: str) -> str:
        return code if self.region[code]["level"] != "county" else self.region[code]["parent_code"]

    def issuer(self, tier: str, region: str) -> str:
        if tier == "province":
            return "内人社办发"
        if tier == "prefecture":
            return PREFECTURES[region][1] + "发"
        return county_doc_prefix(self.region[region]["name"])

    def document(self, issuer: str, year: int, key: str, lo: int, hi: int) -> str:
        """One document number per (issuer, year, key); numbers never repeat for an issuer-year."""
        if (issuer, year, key) not in self.docs:
            n = self.rng.randint(lo, hi)
            while (issuer, year, n) in self.used_numbers:
                n += 1
            self.used_numbers.add((issuer, year, n))
            self.docs[(issuer, year, key)] = f"{issuer}〔{year}〕{n}号"
        return self.docs[(issuer, year, key)]

    def random_date(self, start: date, end: date) -> date:
        return date.fromordinal(self.rng.randint(start.toordinal(), end.toordinal()))

    # -- institutions ----------------------------------------------------------
    def make_institutions(self) -> list[dict[str, str]]:
        rows = []
        for slug, kind, county, name, word, trades in INSTITUTIONS:
            pref = self.pref_of(county)
            prefix = {"12": "MB", "52": "MJ", "91": "MA"}[CREDIT_TYPE[kind]] if self.rng.random() < 0.6 else ""
            first17 = CREDIT_TYPE[kind] + county + org_code(self.rng, prefix)
            status, status_date, reason = STATUS.get(slug, ("active", None, ""))
            address = COMMA_ADDRESS.get(slug) or (
                f"{self.region[pref]['name']}{self.region[county]['name']}"
                f"{self.rng.choice(STREETS)}{self.rng.randint(1, 299)}号")
            phone = f"{PREFECTURES[pref][2]}-{self.rng.randint(2, 8)}{self.rng.randint(0, 999999):06d}"
            website = f"https://{slug}.example.com/" if self.rng.random() < 0.35 else ""
            rows.append({"institution_id": slug, "name": name, "credit_code": first17 + uscc_check(first17),
                         "kind": kind, "region_code": county, "address": address, "phone": phone,
                         "website": website, "status": status,
                         "status_date": status_date.isoformat() if status_date else "", "status_reason": reason,
                         "_word": word, "_trades": trades})
        return rows

    # -- brands ----------------------------------------------------------------
    def plan(self, institutions: list[dict[str, str]]) -> list[Programme]:
        progs = [Programme(inst, occ, self.occ_code.get(occ, ""))
                 for inst in institutions for occ in inst["_trades"].split("|")]
        rng = self.rng
        for pref in sorted(PREFECTURES):
            chained, prov_only, promotions, n_county = QUOTAS[pref]
            n_pref = PREFECTURE_BRANDS_EACH
            local = [p for p in progs if self.pref_of(p.inst["region_code"]) == pref]
            pool = [p for p in local if (p.inst["institution_id"], p.occ_name) not in PINNED
                    and p.inst["status"] == "active" and p.occ_code]
            rng.shuffle(pool)

            def county_for(p: Programme) -> str:  # mostly at home, sometimes 送培训下乡 elsewhere
                return p.inst["region_code"] if rng.random() < 0.65 else rng.choice(self.counties[pref])

            for p in local:
                pin = PINNED.get((p.inst["institution_id"], p.occ_name))
                if pin:
                    tier = {"P": "province", "F": "prefecture", "C": "county"}[pin[0]]
                    region = {"province": PROVINCE, "prefecture": pref, "county": p.inst["region_code"]}[tier]
                    p.brands.append(Brand(p, tier, region, pin[1]))
                    n_pref -= tier == "prefecture"
                    n_county -= tier == "county"
                    prov_only -= tier == "province"
            for _ in range(chained):  # province brands picked from this prefecture's brands
                p = pool.pop()
                if rng.random() < 0.3:  # full chain county -> prefecture -> province
                    c = Brand(p, "county", county_for(p), 2023)
                    f = Brand(p, "prefecture", pref, 2024, source=c)
                    p.brands += [c, f, Brand(p, "province", PROVINCE, 2025, source=f)]
                    n_county -= 1
                else:  # lean towards early prefecture lists so that 2024 has province brands too
                    fy = 2023 if rng.random() < 0.6 else 2024
                    f = Brand(p, "prefecture", pref, fy)
                    p.brands += [f, Brand(p, "province", PROVINCE, rng.choice([fy + 1, 2025]), source=f)]
                n_pref -= 1
            for _ in range(prov_only):
                p = pool.pop()
                # the first list (2023): chosen from prefecture brands older than this sample
                p.brands.append(Brand(p, "province", PROVINCE, 2023))
            for _ in range(promotions):  # prefecture brands recommended by a county
                p = pool.pop()
                cy = rng.choice([2023, 2024])
                c = Brand(p, "county", county_for(p), cy)
                p.brands += [c, Brand(p, "prefecture", pref, rng.randint(cy + 1, 2025), source=c)]
                n_pref, n_county = n_pref - 1, n_county - 1
            for _ in range(n_pref):
                p = pool.pop()
                p.brands.append(Brand(p, "prefecture", pref, rng.choice([2023, 2023, 2024, 2025])))
            for _ in range(n_county):
                p = pool.pop()
                p.brands.append(Brand(p, "county", county_for(p), rng.choice([2023, 2024, 2025, 2025])))
        return [p for p in progs if p.brands]

    def name_and_flag(self, progs: list[Programme]) -> None:
        for p in progs:
            key = (p.inst["institution_id"], p.occ_name)
            template = self.rng.choice(NAME_TEMPLATES)
            p.name = NAME_OVERRIDES.get(key) or template.format(w=p.inst["_word"], o=SHORT_OCC.get(p.occ_name, p.occ_name))
        # Key support (relaxed scale) only for stand-alone brands in fitting trades, so
        # the small figures never have to satisfy a chained brand's criteria as well.
        candidates = [p for p in progs if len(p.brands) == 1 and p.occ_name in KEY_SUPPORT_CATEGORY
                      and p.inst["status"] == "active" and (p.inst["institution_id"], p.occ_name) not in NAME_OVERRIDES]
        for p in self.rng.sample(candidates, N_KEY_SUPPORT):
            p.key_support = KEY_SUPPORT_CATEGORY[p.occ_name]

    def assign_ids_and_dates(self, progs: list[Programme]) -> list[Brand]:
        brands = sorted((b for p in progs for b in p.brands),
                        key=lambda b: (b.year, TIERS.index(b.tier), b.region, b.prog.inst["institution_id"], b.prog.occ_name))
        seq: Counter[tuple[int, str]] = Counter()
        list_dates: dict[tuple[str, int], date] = {}
        for b in brands:
            place = "zzq" if b.tier == "province" else PREFECTURES[self.pref_of(b.region)][0]
            place += f"-{b.region}" if b.tier == "county" else ""
            seq[(b.year, b.region)] += 1
            b.brand_id = f"nm-{b.year}-{place}-{seq[(b.year, b.region)]:02d}"
            if (b.region, b.year) not in list_dates:  # one list (date, number) per issuer-year
                m1, m2 = LIST_MONTHS[b.tier]
                last_day = date(b.year, m2, 31 if m2 in (7, 10, 12) else 30)
                list_dates[(b.region, b.year)] = self.random_date(date(b.year, m1, 1), last_day)
            b.published = list_dates[(b.region, b.year)]
            lo, hi = {"province": (60, 220), "prefecture": (20, 120), "county": (5, 60)}[b.tier]
            b.document_no = self.document(self.issuer(b.tier, b.region), b.year, "list", lo, hi)
        return brands

    # -- outcomes --------------------------------------------------------------
    @staticmethod
    def window(b: Brand) -> list[int]:
        """From the evaluated year Y-1 to the last data year (at least three years); the
        three-year review of the 2023 lists needs 2023-2025. Training stops the year
        before an institution is suspended or removed."""
        status = STATUS.get(b.prog.inst["institution_id"])
        end = LAST_DATA_YEAR if status is None else min(LAST_DATA_YEAR, status[1].year - 1)
        start = min(b.year - 1, end - 2)
        return list(range(start, end + 1))

    def draw(self, level: str, trainees: int | None = None) -> list[int]:
        (t_lo, t_hi), pass_, emp, sub, order = LEVELS[level]
        rng = self.rng
        t = trainees if trainees is not None else rng.randint(t_lo, t_hi)
        min_sub = CRITERIA[level][3] if level in CRITERIA else 0
        return [t, round(t * rng.uniform(*pass_)), round(t * rng.uniform(*emp)),
                min(t, max(min_sub, round(t * rng.uniform(*sub)))), round(t * rng.uniform(*order))]

    def make_outcomes(self, progs: list[Programme]) -> None:
        for p in progs:
            years = sorted({y for b in p.brands for y in self.window(b)})
            for y in years:
                # scale level in year y: the tier of the latest brand evaluated on or before y
                evaluated = [b for b in p.brands if b.year - 1 <= y]
                level = (evaluated[-1] if evaluated else p.brands[0]).tier
                p.outcomes[y] = self.draw("key_support" if p.key_support else level)

    def add_stories(self, progs: list[Programme]) -> dict[str, list[Brand]]:
        """Declining programmes (review exits), slight shortfalls, tiny cohorts."""
        rng = self.rng
        single = [p for p in progs if len(p.brands) == 1 and not p.key_support and p.inst["status"] == "active"
                  and (p.inst["institution_id"], p.occ_name) not in PINNED]
        stories: dict[str, list[Brand]] = {"declining": [], "shortfall": [], "tiny": []}
        for tier in ("province", "prefecture", "county", "county", "prefecture"):
            pick = [p for p in single if p.brands[0].tier == tier and p.brands[0].year == 2023
                    and p.brands[0] not in stories["declining"]]
            if pick:
                p = rng.choice(pick)
                stories["declining"].append(p.brands[0])
                base = p.outcomes[2022]
                for y, factor, scale in ((2023, 0.80, 0.9), (2024, 0.60, 0.75), (2025, 0.55, 0.7)):
                    t = round(base[0] * scale)  # employment falls, scale shrinks
                    p.outcomes[y] = self.draw(tier, t)
                    p.outcomes[y][2] = round(base[2] / base[0] * factor * t)
        taken = {id(b) for b in stories["declining"]}
        for tier, kind in (("province", "pass"), ("prefecture", "order"), ("prefecture", "trainees")):
            pick = [b for p in progs if not p.key_support and p.inst["status"] == "active" for b in p.brands
                    if b.tier == tier and id(b) not in taken]
            b = rng.choice(pick)
            taken.add(id(b))
            stories["shortfall"].append(b)
            o = b.prog.outcomes[b.year - 1]
            if kind == "pass":
                o[1] = round(o[0] * rng.uniform(0.86, 0.885))
            elif kind == "order":
                o[4] = round(o[0] * rng.uniform(0.35, 0.39))
            else:  # a little under the minimum scale, other rates unchanged
                t = rng.randint(185, 196)
                o[:] = [t] + [min(t, round(v * t / o[0])) for v in o[1:]]
        for p in rng.sample([p for p in single if p.brands[0].tier == "county" and id(p.brands[0]) not in taken], 3):
            y = rng.choice([y for y in self.window(p.brands[0]) if y != p.brands[0].year - 1])
            p.outcomes[y] = self.draw("county", rng.randint(12, 28))
            stories["tiny"].append(p.brands[0])
        return stories

    # -- exits -----------------------------------------------------------------
    def make_exits(self, progs: list[Programme], stories: dict[str, list[Brand]]) -> list[dict[str, object]]:
        exits = []
        tier_label = {"province": "自治区级", "prefecture": "盟市级", "county": "旗县级"}
        for b in stories["declining"]:  # three-year review of the 2023 lists, published in 2026
            o0, o2 = b.prog.outcomes[2023], b.prog.outcomes[2025]
            detail = (f"三年评估：培训后就业率由2023年的{o0[2] / o0[0]:.0%}降至2025年的{o2[2] / o2[0]:.0%}，"
                      f"培训规模由{o0[0]}人降至{o2[0]}人，不再符合{tier_label[b.tier]}培训品牌标准。")
            doc = self.document(self.issuer(b.tier, b.region), 2026, "review", 10, 90)
            when = self.doc_dates.setdefault(doc, self.random_date(date(2026, 3, 1), date(2026, 9, 30)))
            exits.append((b, when, "review_failed", detail, doc))
        for p in progs:
            status, status_date, _ = STATUS.get(p.inst["institution_id"], ("active", None, ""))
            for b in p.brands:
                if status == "removed":
                    reason, detail = "institution_closed", "培训机构终止办学并注销，该品牌随之退出目录。"
                elif status == "suspended" and b.tier == "prefecture":
                    reason, detail = "violation", "培训机构存在虚假宣传、违规招生行为，被暂停承训资格，品牌退出目录。"
                else:
                    continue
                assert status_date is not None
                when = status_date + timedelta(days=self.rng.randint(10, 45))
                exits.append((b, when, reason, detail, self.document(self.issuer(b.tier, b.region), when.year, reason, 10, 90)))
        exits.sort(key=lambda e: (e[1], e[0].brand_id))
        return [{"brand_id": b.brand_id, "exit_date": d.isoformat(), "reason": r, "detail": t, "document_no": n}
                for b, d, r, t, n in exits]

    def run(self) -> dict[str, list[dict[str, object]]]:
        institutions = self.make_institutions()
        progs = self.plan(institutions)
        self.name_and_flag(progs)
        brands = self.assign_ids_and_dates(progs)
        self.make_outcomes(progs)
        stories = self.add_stories(progs)
        exits = self.make_exits(progs, stories)
        brand_rows = [{
            "brand_id": b.brand_id, "name": b.prog.name, "institution_id": b.prog.inst["institution_id"],
            "occupation_code": b.prog.occ_code, "occupation_name": b.prog.occ_name, "tier": b.tier,
            "region_code": b.region, "focus_area": FOCUS_OF.get(b.prog.occ_name, ""),
            "key_support": "true" if b.prog.key_support else "false", "key_support_category": b.prog.key_support,
            "recommended_from": b.source.brand_id if b.source else "", "published_year": b.year,
            "published_date": b.published.isoformat() if b.published else "", "document_no": b.document_no,
        } for b in brands]
        outcome_rows = [{"brand_id": b.brand_id, "year": y,
                         **dict(zip(("trainees", "passed", "employed", "subsidised_key_group", "order_based"),
                                    b.prog.outcomes[y]))}
                        for b in brands for y in self.window(b)]
        inst_rows = [{k: v for k, v in i.items() if not k.startswith("_")} for i in institutions]
        corrections = apply_corrections(inst_rows)
        return {"corrections": corrections, "regions": self.regions, "occupations": self.occupations, "institutions": inst_rows,
                "brands": brand_rows, "outcomes": outcome_rows, "exits": exits,
                "criteria": self.make_criteria(), "releases": self.make_releases(brands),
                "reviews": [{"brand_id": e["brand_id"], "year": e["exit_date"][:4], "result": "exited",
                             "document_no": e["document_no"]} for e in exits if e["reason"] == "review_failed"]}

    # -- criteria, releases ------------------------------------------------------
    def make_criteria(self) -> list[dict[str, object]]:
        """Seed 000's province and prefecture rows; county rows are set locally (examples):
        each prefecture sets a default for its counties, and three counties set their own."""
        every = "key_technology;recognised_trade;heritage;rural_industry;innovation"
        seed = "内人社办发〔2022〕213号"
        rows: list[dict[str, object]] = [
            {"scope_code": PROVINCE, "tier": "province", "min_trainees": 400, "min_pass_rate": 90,
             "min_employment_rate": 70, "min_subsidised_key_group": 200, "min_order_based_share": 50,
             "key_support_min_employment_rate": 70, "key_support_categories": every, "document_no": seed,
             "notes": "自治区级品牌评价标准（实施方案第三部分）"},
            {"scope_code": PROVINCE, "tier": "prefecture", "min_trainees": 200, "min_pass_rate": 85,
             "min_employment_rate": 60, "min_subsidised_key_group": 100, "min_order_based_share": 40,
             "key_support_min_employment_rate": 70, "key_support_categories": every, "document_no": seed,
             "notes": "盟市级品牌评价标准（实施方案第三部分）"},
        ]
        for pref in sorted(PREFECTURES):
            rows.append({"scope_code": pref, "tier": "county", "min_trainees": 30, "min_pass_rate": 80,
                         "min_employment_rate": 55, "min_subsidised_key_group": "", "min_order_based_share": "",
                         "key_support_min_employment_rate": 70, "key_support_categories": every,
                         "document_no": self.document(self.issuer("prefecture", pref), 2022, "criteria", 10, 60),
                         "notes": "示例：盟市为所辖旗县设定的旗县级参考标准，旗县另有规定的从其规定"})
        counties = sorted({c for c in self.region if self.region[c]["level"] == "county"})
        for county in self.rng.sample(counties, 3):
            rows.append({"scope_code": county, "tier": "county", "min_trainees": 40, "min_pass_rate": 80,
                         "min_employment_rate": 60, "min_subsidised_key_group": "", "min_order_based_share": "",
                         "key_support_min_employment_rate": 70, "key_support_categories": "heritage;rural_industry",
                         "document_no": self.document(self.issuer("county", county), 2022, "criteria", 5, 40),
                         "notes": "示例：旗县自行设定的旗县级标准"})
        return sorted(rows, key=lambda r: (str(r["scope_code"]), ("province", "prefecture", "county").index(str(r["tier"]))))

    @staticmethod
    def make_releases(brands: list[Brand]) -> list[dict[str, object]]:
        """One edition a year, published with the province list (the last list of the year)."""
        rows = []
        for year in YEARS:
            province = [b for b in brands if b.tier == "province" and b.year == year]
            b = province[0]
            rows.append({"year": year, "published_date": b.published.isoformat() if b.published else "",
                         "document_no": b.document_no, "title": f"{year}年度内蒙古自治区职业技能培训品牌目录（示例）",
                         "notes": f"含当年公布的自治区级品牌{len(province)}个，及此前公布的盟市级、旗县级品牌"})
        return rows


# --- self-check on the written files --------------------------------------------------
def check(datasets: Path) -> dict[str, object]:
    t = {name: read_csv(datasets / f"{name}.csv") for name in
         ("regions", "occupations", "institutions", "brands", "outcomes", "exits")}
    region = {r["code"]: r for r in t["regions"]}
    assert len(t["regions"]) == 116, len(t["regions"])
    pref_of = {c: (c if r["level"] != "county" else r["parent_code"]) for c, r in region.items()}
    occ = {o["code"]: o["name"] for o in t["occupations"]}
    inst = {i["institution_id"]: i for i in t["institutions"]}
    brand = {b["brand_id"]: b for b in t["brands"]}
    assert len(inst) == len(t["institutions"]) and len(brand) == len(t["brands"])
    for i in t["institutions"]:
        cc = i["credit_code"]
        assert SLUG.fullmatch(i["institution_id"]) and len(cc) == 18 and uscc_check(cc[:17]) == cc[17], i
        assert cc[2:8] == i["region_code"] and region[i["region_code"]]["level"] != "province", i
        assert (i["status"] == "active") == (not i["status_date"]) == (not i["status_reason"]), i
    kinds = Counter(i["kind"] for i in t["institutions"])
    assert 1 <= kinds["online_platform"] <= 2 and 1 <= kinds["assessment_body"] <= 2
    statuses = Counter(i["status"] for i in t["institutions"])
    assert statuses["suspended"] >= 1 and statuses["removed"] >= 1
    years: dict[str, list[int]] = {}
    for o in t["outcomes"]:
        n = [int(o[k]) for k in ("trainees", "passed", "employed", "subsidised_key_group", "order_based")]
        assert all(0 <= v <= n[0] for v in n[1:]), o
        years.setdefault(o["brand_id"], []).append(int(o["year"]))
    outcome = {(o["brand_id"], int(o["year"])): o for o in t["outcomes"]}
    lists: dict[tuple[str, str, str], set[tuple[str, str]]] = {}
    short: list[str] = []
    for b in t["brands"]:
        y, d, r, i = int(b["published_year"]), date.fromisoformat(b["published_date"]), b["region_code"], inst[b["institution_id"]]
        assert SLUG.fullmatch(b["brand_id"]) and y in YEARS and d.year == y and d <= date(2025, 12, 31), b
        assert d.month in LIST_MONTHS[b["tier"]] and region[r]["level"] == b["tier"], b
        assert b["tier"] == "province" or pref_of[r] == pref_of[i["region_code"]], b
        assert b["occupation_code"] == "" or occ[b["occupation_code"]] == b["occupation_name"], b
        ks = b["key_support"] == "true"
        assert ks == bool(b["key_support_category"]), b
        lists.setdefault((b["tier"], r, b["published_year"]), set()).add((b["published_date"], b["document_no"]))
        if i["status"] != "active":
            assert d < date.fromisoformat(i["status_date"]), b
        span = sorted(years[b["brand_id"]])
        assert len(span) >= 3 and span == list(range(span[0], span[-1] + 1)), b
        assert y - 1 in years[b["brand_id"]] and max(years[b["brand_id"]]) <= LAST_DATA_YEAR, b
        if b["recommended_from"]:
            s = brand[b["recommended_from"]]
            lower = {"province": "prefecture", "prefecture": "county"}[b["tier"]]
            assert s["tier"] == lower and int(s["published_year"]) < y, b
            assert (s["institution_id"], s["occupation_code"]) == (b["institution_id"], b["occupation_code"]), b
            assert b["tier"] == "province" or region[s["region_code"]]["parent_code"] == r, b
        o = outcome[(b["brand_id"], y - 1)]
        tr, ps, em, sb, od = (int(o[k]) for k in ("trainees", "passed", "employed", "subsidised_key_group", "order_based"))
        if ks:
            assert tr <= 150 and em / tr >= 0.70, b
        elif b["tier"] in CRITERIA:
            c = CRITERIA[b["tier"]]
            if not (tr >= c[0] and ps / tr >= c[1] and em / tr >= c[2] and sb >= c[3] and od / tr >= c[4]):
                short.append(b["brand_id"])
    assert all(len(v) == 1 for v in lists.values()), "one date and number per published list"
    doc_lists = Counter(next(iter(v))[1] for v in lists.values())
    assert max(doc_lists.values()) == 1, "a document number publishes one list only"
    assert 2 <= len(short) <= 3, short
    assert sum(1 for b in t["brands"] if not b["occupation_code"]) <= 2
    exits = {e["brand_id"]: e for e in t["exits"]}
    for e in t["exits"]:
        b, d = brand[e["brand_id"]], date.fromisoformat(e["exit_date"])
        i = inst[b["institution_id"]]
        assert d > date.fromisoformat(b["published_date"]) and max(years[b["brand_id"]]) <= d.year, e
        if e["reason"] == "review_failed":
            assert b["published_year"] == "2023" and date(2026, 3, 1) <= d <= date(2026, 10, 31), e
        if e["reason"] in ("violation", "institution_closed"):
            assert i["status"] == {"violation": "suspended", "institution_closed": "removed"}[e["reason"]], e
            assert d >= date.fromisoformat(i["status_date"]), e
    reasons = Counter(e["reason"] for e in t["exits"])
    assert len(exits) >= 6 and reasons["violation"] >= 1 and reasons["institution_closed"] >= 1
    tiers = Counter(b["tier"] for b in t["brands"])
    prov_chain = sum(1 for b in t["brands"] if b["tier"] == "province" and b["recommended_from"])
    pref_chain = sum(1 for b in t["brands"] if b["tier"] == "prefecture" and b["recommended_from"])
    assert 160 <= len(brand) <= 180 and prov_chain >= 12 and pref_chain >= 15, (len(brand), prov_chain, pref_chain)
    per_pref = {}
    for p in sorted(c for c, r in region.items() if r["level"] == "prefecture"):
        n = Counter(b["tier"] for b in t["brands"] if b["tier"] != "province" and pref_of[b["region_code"]] == p)
        m = sum(1 for b in t["brands"] if b["tier"] == "province" and pref_of[inst[b["institution_id"]]["region_code"]] == p)
        assert n["prefecture"] >= 1 and n["county"] >= 3, p
        per_pref[region[p]["name"]] = (m, n["prefecture"], n["county"])
    full = sum(1 for b in t["brands"] if b["recommended_from"] and brand[b["recommended_from"]]["recommended_from"])
    return {"tiers": dict(tiers), "per_pref": per_pref, "exits": dict(reasons), "short": short,
            "key_support": sum(1 for b in t["brands"] if b["key_support"] == "true"),
            "chains": (prov_chain, pref_chain, full), "counts": {k: len(v) for k, v in t.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE,
                        help="folder with regions_cn_2024.csv and occupations_2022.csv")
    args = parser.parse_args()
    package = json.loads((DATASETS / "datapackage.json").read_text(encoding="utf-8"))
    tables = Generator(args.reference).run()
    for res in package["resources"]:
        write_csv(DATASETS / res["path"], [f["name"] for f in res["schema"]["fields"]], tables[res["name"]])
    s = check(DATASETS)
    print("rows:", ", ".join(f"{k} {v}" for k, v in s["counts"].items()))
    print("brands per tier:", ", ".join(f"{k} {v}" for k, v in s["tiers"].items()))
    print("per prefecture (province brands of its institutions / prefecture / county):")
    for name, (a, b, c) in s["per_pref"].items():
        print(f"  {name}: {a} / {b} / {c}")
    print("exits:", s["exits"], "| key support:", s["key_support"], "| slightly short of criteria:", s["short"])
    print("recommended_from: province<-prefecture %d, prefecture<-county %d, full county->province chains %d" % s["chains"])


if __name__ == "__main__":
    main()
