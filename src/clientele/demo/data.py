"""The demo company's vocabulary: Chinese names, places, the catalogue, tags, texts.

Plain data only, so the generator stays readable and a reviewer can check the realism
of the demo in one place. Weights are relative, not probabilities.
"""

import datetime

# Surnames with pinyin (for e-mail addresses) and their relative frequency in China.
SURNAMES = [
    ("王", "wang", 7.25),
    ("李", "li", 7.19),
    ("张", "zhang", 6.83),
    ("刘", "liu", 5.38),
    ("陈", "chen", 4.53),
    ("杨", "yang", 3.08),
    ("赵", "zhao", 2.29),
    ("黄", "huang", 2.23),
    ("吴", "wu", 2.05),
    ("周", "zhou", 1.97),
    ("孙", "sun", 1.54),
    ("徐", "xu", 1.53),
    ("马", "ma", 1.44),
    ("胡", "hu", 1.31),
    ("朱", "zhu", 1.26),
    ("何", "he", 1.17),
    ("郭", "guo", 1.13),
    ("高", "gao", 1.0),
    ("林", "lin", 1.0),
    ("罗", "luo", 0.86),
    ("梁", "liang", 0.84),
    ("郑", "zheng", 0.8),
    ("谢", "xie", 0.72),
    ("宋", "song", 0.68),
    ("唐", "tang", 0.67),
    ("许", "xu", 0.66),
    ("韩", "han", 0.6),
    ("冯", "feng", 0.59),
    ("邓", "deng", 0.58),
    ("曹", "cao", 0.55),
    ("彭", "peng", 0.53),
    ("曾", "zeng", 0.5),
    ("肖", "xiao", 0.49),
    ("田", "tian", 0.47),
    ("董", "dong", 0.46),
    ("袁", "yuan", 0.45),
    ("潘", "pan", 0.43),
    ("于", "yu", 0.42),
    ("蒋", "jiang", 0.41),
    ("蔡", "cai", 0.4),
    ("余", "yu", 0.39),
    ("杜", "du", 0.38),
    ("叶", "ye", 0.37),
    ("程", "cheng", 0.36),
    ("苏", "su", 0.35),
    ("魏", "wei", 0.34),
    ("吕", "lv", 0.33),
    ("丁", "ding", 0.32),
    ("任", "ren", 0.31),
    ("沈", "shen", 0.3),
    ("欧阳", "ouyang", 0.05),
    ("上官", "shangguan", 0.01),
]

GIVEN_FEMALE = list(
    "芳娜敏静丽艳娟霞秀玲婷雪琳颖倩慧佳欣悦怡晶萍燕红梅莉丹璐蕾瑶琪妍涵婧思雨诗梦紫馨萱彤月兰凤"
)
GIVEN_MALE = list(
    "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆峰龙阳林东志建国文博昊睿轩天海鸿亮成"
)

# Province -> (weight, [(city, area code, [districts])]); eastern provinces weigh more
# because the company's stores are there, the far west is reached online only.
PLACES = {
    "上海市": (
        9.0,
        [
            (
                "上海市",
                "021",
                "浦东新区 黄浦区 徐汇区 静安区 长宁区 普陀区 虹口区 杨浦区 闵行区 宝山区 嘉定区 松江区",
            )
        ],
    ),
    "北京市": (6.0, [("北京市", "010", "朝阳区 海淀区 东城区 西城区 丰台区 通州区 昌平区 大兴区")]),
    "天津市": (1.5, [("天津市", "022", "和平区 河西区 南开区 滨海新区")]),
    "重庆市": (2.0, [("重庆市", "023", "渝中区 江北区 沙坪坝区 九龙坡区 渝北区")]),
    "广东省": (
        10.0,
        [
            ("广州市", "020", "天河区 越秀区 海珠区 番禺区 白云区"),
            ("深圳市", "0755", "福田区 南山区 罗湖区 宝安区 龙岗区"),
            ("东莞市", "0769", "南城街道 东城街道 长安镇"),
            ("佛山市", "0757", "禅城区 南海区 顺德区"),
        ],
    ),
    "江苏省": (
        9.0,
        [
            ("南京市", "025", "玄武区 鼓楼区 秦淮区 建邺区 江宁区"),
            ("苏州市", "0512", "姑苏区 工业园区 吴中区 昆山市"),
            ("无锡市", "0510", "梁溪区 滨湖区 新吴区"),
            ("常州市", "0519", "天宁区 武进区"),
        ],
    ),
    "浙江省": (
        8.0,
        [
            ("杭州市", "0571", "西湖区 上城区 拱墅区 滨江区 余杭区 萧山区"),
            ("宁波市", "0574", "海曙区 鄞州区 江北区"),
            ("温州市", "0577", "鹿城区 瓯海区"),
            ("嘉兴市", "0573", "南湖区 秀洲区"),
        ],
    ),
    "山东省": (
        5.0,
        [
            ("济南市", "0531", "历下区 市中区 槐荫区"),
            ("青岛市", "0532", "市南区 市北区 崂山区 黄岛区"),
            ("烟台市", "0535", "芝罘区 莱山区"),
        ],
    ),
    "福建省": (
        3.0,
        [("福州市", "0591", "鼓楼区 台江区 仓山区"), ("厦门市", "0592", "思明区 湖里区 集美区")],
    ),
    "安徽省": (
        2.5,
        [("合肥市", "0551", "蜀山区 包河区 庐阳区"), ("芜湖市", "0553", "镜湖区 鸠江区")],
    ),
    "湖北省": (
        3.0,
        [("武汉市", "027", "江汉区 武昌区 洪山区 江岸区"), ("宜昌市", "0717", "西陵区")],
    ),
    "湖南省": (
        2.5,
        [("长沙市", "0731", "岳麓区 芙蓉区 天心区 开福区"), ("株洲市", "0731", "天元区")],
    ),
    "四川省": (
        3.5,
        [("成都市", "028", "锦江区 青羊区 武侯区 成华区 高新区"), ("绵阳市", "0816", "涪城区")],
    ),
    "河南省": (3.0, [("郑州市", "0371", "金水区 中原区 二七区"), ("洛阳市", "0379", "洛龙区")]),
    "河北省": (2.0, [("石家庄市", "0311", "长安区 桥西区"), ("唐山市", "0315", "路北区")]),
    "陕西省": (2.0, [("西安市", "029", "雁塔区 碑林区 未央区 莲湖区")]),
    "辽宁省": (
        2.0,
        [("沈阳市", "024", "和平区 沈河区 皇姑区"), ("大连市", "0411", "中山区 沙河口区")],
    ),
    "江西省": (1.5, [("南昌市", "0791", "东湖区 红谷滩区")]),
    "广西壮族自治区": (1.5, [("南宁市", "0771", "青秀区 兴宁区"), ("桂林市", "0773", "秀峰区")]),
    "云南省": (1.2, [("昆明市", "0871", "五华区 盘龙区")]),
    "黑龙江省": (1.2, [("哈尔滨市", "0451", "南岗区 道里区")]),
    "吉林省": (0.8, [("长春市", "0431", "朝阳区 南关区")]),
    "山西省": (1.0, [("太原市", "0351", "小店区 迎泽区")]),
    "贵州省": (0.8, [("贵阳市", "0851", "南明区 云岩区")]),
    "海南省": (0.5, [("海口市", "0898", "龙华区 美兰区")]),
    "内蒙古自治区": (0.4, [("呼和浩特市", "0471", "新城区 赛罕区")]),
    "甘肃省": (0.4, [("兰州市", "0931", "城关区 七里河区")]),
    "新疆维吾尔自治区": (0.4, [("乌鲁木齐市", "0991", "天山区 沙依巴克区")]),
    "宁夏回族自治区": (0.2, [("银川市", "0951", "兴庆区")]),
    "青海省": (0.15, [("西宁市", "0971", "城中区")]),
    "西藏自治区": (0.1, [("拉萨市", "0891", "城关区")]),
}

# Which account-manager team covers which province (the rest goes to the north team).
TEAM_REGIONS = {
    "华东大客户组": "上海市 江苏省 浙江省 安徽省 山东省 福建省 江西省",
    "华南大客户组": "广东省 广西壮族自治区 海南省 湖南省 湖北省",
    "西部大客户组": "四川省 重庆市 陕西省 云南省 贵州省 甘肃省 青海省 宁夏回族自治区 新疆维吾尔自治区 西藏自治区",
    "华北大客户组": "北京市 天津市 河北省 河南省 山西省 辽宁省 吉林省 黑龙江省 内蒙古自治区",
}
SERVICE_TEAM = "客户服务中心"

ROADS = "人民路 中山路 解放路 建设路 南京路 淮海路 长江路 和平路 新华路 文化路 花园路 青年路 滨江大道 世纪大道 科技路 学府路 光明路 东风路".split()

EMAIL_DOMAINS = [
    ("qq.com", 40),
    ("163.com", 25),
    ("126.com", 10),
    ("sina.com", 5),
    ("139.com", 8),
    ("foxmail.com", 7),
    ("gmail.com", 5),
]

# Mobile number prefixes of the three carriers (China Mobile, Unicom, Telecom).
MOBILE_PREFIXES = [
    "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158",
    "159", "178", "182", "183", "187", "188", "198", "130", "131", "132", "155", "156",
    "166", "175", "176", "185", "186", "133", "153", "173", "177", "180", "181", "189",
    "191", "199",
]  # fmt: skip

# Real Spring Festival (lunar new year's day) dates: the shopping peak is the three weeks
# before, and shops are quiet during the first days of the festival.
SPRING_FESTIVAL = {
    2020: datetime.date(2020, 1, 25),
    2021: datetime.date(2021, 2, 12),
    2022: datetime.date(2022, 2, 1),
    2023: datetime.date(2023, 1, 22),
    2024: datetime.date(2024, 2, 10),
    2025: datetime.date(2025, 1, 29),
    2026: datetime.date(2026, 2, 17),
    2027: datetime.date(2027, 2, 6),
    2028: datetime.date(2028, 1, 26),
    2029: datetime.date(2029, 2, 13),
    2030: datetime.date(2030, 2, 3),
    2031: datetime.date(2031, 1, 23),
    2032: datetime.date(2032, 2, 11),
    2033: datetime.date(2033, 1, 31),
    2034: datetime.date(2034, 2, 19),
    2035: datetime.date(2035, 2, 8),
}

# The catalogue: top category (code, name) -> subcategories (code, name, brands, items).
# An item is (name, list price in yuan, unit, role, for organizations only).
# Roles follow the seed (002 第三篇): cheap everyday items draw traffic, premium items
# carry the profit, new lines are potential items, the rest are marginal.
CATALOG = [
    (
        ("BEAUTY", "美妆护肤"),
        [
            (
                "BEAUTY-SKIN",
                "护肤",
                "珀莱雅 自然堂 百雀羚 薇诺娜 兰蔻 雅诗兰黛 欧莱雅 资生堂",
                [
                    ("保湿面霜 50g", 280, "件", "profit", False),
                    ("修护精华液 30ml", 420, "件", "profit", False),
                    ("爽肤水 200ml", 160, "件", "marginal", False),
                    ("氨基酸洁面乳 120g", 89, "件", "traffic", False),
                    ("补水面膜 10片装", 129, "盒", "traffic", False),
                    ("抗皱眼霜 15ml", 350, "件", "profit", False),
                    ("清爽防晒霜 50ml", 139, "件", "marginal", False),
                ],
            ),
            (
                "BEAUTY-MAKEUP",
                "彩妆",
                "花西子 完美日记 毛戈平 兰蔻 雅诗兰黛",
                [
                    ("丝绒口红", 230, "支", "marginal", False),
                    ("持妆粉底液 30ml", 320, "件", "profit", False),
                    ("十二色眼影盘", 260, "盒", "potential", False),
                    ("纤长睫毛膏", 150, "支", "marginal", False),
                ],
            ),
            (
                "BEAUTY-FRAGRANCE",
                "香水",
                "观夏 兰蔻 迪奥",
                [("淡香水 50ml", 680, "瓶", "profit", False)],
            ),
        ],
    ),
    (
        ("APPAREL", "服装鞋帽"),
        [
            (
                "APPAREL-WOMEN",
                "女装",
                "太平鸟 江南布衣 波司登 森马",
                [
                    ("收腰连衣裙", 299, "件", "marginal", False),
                    ("羊毛针织衫", 199, "件", "marginal", False),
                    ("轻薄羽绒服", 899, "件", "profit", False),
                    ("双排扣风衣", 599, "件", "potential", False),
                ],
            ),
            (
                "APPAREL-MEN",
                "男装",
                "海澜之家 波司登 李宁 森马",
                [
                    ("免烫衬衫", 199, "件", "traffic", False),
                    ("商务夹克", 459, "件", "marginal", False),
                    ("弹力休闲裤", 239, "条", "marginal", False),
                    ("加厚羽绒服", 999, "件", "profit", False),
                ],
            ),
            (
                "APPAREL-KIDS",
                "童装",
                "巴拉巴拉 安踏儿童 小猪班纳",
                [
                    ("儿童卫衣", 129, "件", "traffic", False),
                    ("儿童羽绒服", 399, "件", "marginal", False),
                ],
            ),
            (
                "APPAREL-SHOES",
                "鞋履",
                "李宁 安踏 特步 百丽",
                [
                    ("跑步鞋", 499, "双", "marginal", False),
                    ("真皮皮鞋", 599, "双", "profit", False),
                ],
            ),
        ],
    ),
    (
        ("BABY", "母婴用品"),
        [
            (
                "BABY-MILK",
                "奶粉",
                "飞鹤 伊利 君乐宝 贝因美 爱他美",
                [
                    ("婴儿配方奶粉1段 800g", 328, "罐", "traffic", False),
                    ("较大婴儿配方奶粉2段 800g", 318, "罐", "traffic", False),
                    ("幼儿配方奶粉3段 800g", 298, "罐", "marginal", False),
                ],
            ),
            (
                "BABY-DIAPER",
                "纸尿裤",
                "帮宝适 好奇 花王 大王",
                [
                    ("纸尿裤 L码 58片", 129, "包", "traffic", False),
                    ("拉拉裤 XL码 42片", 139, "包", "traffic", False),
                ],
            ),
            (
                "BABY-FEEDING",
                "喂养用品",
                "贝亲 好孩子 嘉宝",
                [
                    ("宽口径玻璃奶瓶", 89, "个", "marginal", False),
                    ("婴儿营养米粉", 68, "盒", "traffic", False),
                ],
            ),
            (
                "BABY-TOYS",
                "玩具早教",
                "乐高 好孩子 火火兔",
                [
                    ("益智拼装积木", 199, "盒", "potential", False),
                    ("儿童早教机", 259, "台", "potential", False),
                ],
            ),
        ],
    ),
    (
        ("DIGITAL", "数码家电"),
        [
            (
                "DIGITAL-PHONE",
                "手机",
                "华为 小米 荣耀 OPPO vivo",
                [
                    ("5G智能手机 256G", 2999, "台", "marginal", False),
                    ("旗舰智能手机 512G", 6999, "台", "profit", False),
                ],
            ),
            (
                "DIGITAL-PC",
                "电脑平板",
                "联想 华为 小米",
                [
                    ("轻薄笔记本电脑", 5999, "台", "marginal", False),
                    ("平板电脑 11英寸", 3299, "台", "marginal", False),
                ],
            ),
            (
                "DIGITAL-ACC",
                "数码配件",
                "华为 小米 倍思 绿联",
                [
                    ("降噪蓝牙耳机", 399, "副", "potential", False),
                    ("20000mAh充电宝", 149, "个", "traffic", False),
                    ("运动智能手表", 1299, "块", "potential", False),
                ],
            ),
            (
                "DIGITAL-HOME",
                "小家电",
                "美的 九阳 苏泊尔 小米 飞利浦 戴森",
                [
                    ("IH电饭煲 4L", 499, "台", "marginal", False),
                    ("空气炸锅 5L", 399, "台", "traffic", False),
                    ("扫地机器人", 2499, "台", "potential", False),
                    ("声波电动牙刷", 299, "支", "marginal", False),
                    ("高速吹风机", 399, "台", "profit", False),
                ],
            ),
        ],
    ),
    (
        ("FOOD", "食品酒水"),
        [
            (
                "FOOD-SNACK",
                "休闲零食",
                "三只松鼠 良品铺子 百草味",
                [
                    ("每日坚果礼盒 750g", 168, "盒", "marginal", False),
                    ("风干牛肉干 200g", 59, "袋", "traffic", False),
                ],
            ),
            (
                "FOOD-GRAIN",
                "粮油",
                "金龙鱼 福临门 中粮 十月稻田",
                [
                    ("东北大米 5kg", 49, "袋", "traffic", False),
                    ("压榨花生油 5L", 89, "桶", "traffic", False),
                    ("粳米（散装）", 4800, "t", "marginal", True),
                    ("高筋面粉（散装）", 3600, "t", "marginal", True),
                    ("一级大豆油（散装）", 9800, "t", "marginal", True),
                    ("白砂糖（散装）", 6500, "t", "marginal", True),
                ],
            ),
            (
                "FOOD-DRINK",
                "酒水茶饮",
                "五粮液 洋河 张裕 茅台 西湖龙井",
                [
                    ("浓香型白酒 500ml", 499, "瓶", "profit", False),
                    ("干红葡萄酒 750ml", 299, "瓶", "profit", False),
                    ("明前绿茶礼盒", 388, "盒", "profit", False),
                ],
            ),
            (
                "FOOD-DAIRY",
                "乳品",
                "伊利 蒙牛 光明",
                [
                    ("纯牛奶 250ml×24盒", 65, "箱", "traffic", False),
                    ("风味酸奶 200g×12", 59, "箱", "traffic", False),
                ],
            ),
        ],
    ),
]

# Tags: (name, description). Persona groups come from the seed (004 篇1), price, channel
# and terminal preferences from the big-data platform (001 篇7).
TAGS = [
    ("单身白领", "人群：单身职场人士"),
    ("工薪族", "人群：工薪阶层"),
    ("已婚有孩", "人生阶段：有孩家庭"),
    ("退休", "人群：退休老人"),
    ("企业主", "人群：企业主"),
    ("创业者", "人群：创业者"),
    ("个体商户", "人群：个体经营者"),
    ("价格敏感", "大数据平台：价格敏感度高"),
    ("品质优先", "大数据平台：注重品质"),
    ("偏好线上", "大数据平台：渠道偏好线上"),
    ("偏好门店", "大数据平台：渠道偏好门店"),
    ("苹果用户", "大数据平台：终端偏好 iOS"),
    ("安卓用户", "大数据平台：终端偏好 Android"),
    ("送礼需求", "使用场景：节日送礼"),
    ("美妆爱好者", "品类兴趣：美妆护肤"),
    ("时尚穿搭", "品类兴趣：服装鞋帽"),
    ("母婴人群", "品类兴趣：母婴用品"),
    ("数码达人", "品类兴趣：数码家电"),
    ("美食家", "品类兴趣：食品酒水"),
    ("大客户", "企业：重点客户"),
    ("集团客户", "企业：集团及下属公司"),
]

# Organizations: industries with the category they mostly buy (index into CATALOG) and
# whether they declare an annual demand in tons of bulk food.
INDUSTRIES = [
    ("餐饮", 4, True, 6),
    ("酒店", 4, True, 4),
    ("食品加工", 4, True, 4),
    ("商超零售", 4, True, 3),
    ("学校食堂", 4, True, 3),
    ("美容美发", 0, False, 3),
    ("母婴连锁", 2, False, 2),
    ("互联网科技", 3, False, 3),
    ("制造业", 3, False, 3),
    ("金融保险", 4, False, 2),
    ("物业管理", 4, False, 2),
    ("医疗健康", 2, False, 1),
    ("政府机关", 3, False, 1),
]
ORG_SIZES = [("micro", 15), ("small", 40), ("medium", 32), ("large", 13)]
# Company name parts: brand words with pinyin (for the e-mail domain), industry words.
ORG_BRANDS = [
    ("鑫达", "xinda"), ("华泰", "huatai"), ("宏远", "hongyuan"), ("金桥", "jinqiao"),
    ("恒昌", "hengchang"), ("瑞丰", "ruifeng"), ("嘉禾", "jiahe"), ("德隆", "delong"),
    ("永盛", "yongsheng"), ("天成", "tiancheng"), ("博雅", "boya"), ("海纳", "haina"),
    ("中联", "zhonglian"), ("新世纪", "xinshiji"), ("星河", "xinghe"), ("安和", "anhe"),
    ("锦绣", "jinxiu"), ("正泰", "zhengtai"), ("银河", "yinhe"), ("明珠", "mingzhu"),
    ("东方", "dongfang"), ("蓝海", "lanhai"), ("同创", "tongchuang"), ("汇丰源", "huifengyuan"),
]  # fmt: skip
ORG_SUFFIX = {
    "餐饮": "餐饮管理有限公司",
    "酒店": "酒店管理有限公司",
    "食品加工": "食品有限公司",
    "商超零售": "商贸有限公司",
    "学校食堂": "后勤服务有限公司",
    "美容美发": "美容连锁有限公司",
    "母婴连锁": "母婴用品有限公司",
    "互联网科技": "网络科技有限公司",
    "制造业": "实业有限公司",
    "金融保险": "投资有限公司",
    "物业管理": "物业管理有限公司",
    "医疗健康": "医疗科技有限公司",
    "政府机关": "机关事务服务中心",
}
CONTACT_TITLES = {
    "key_man": ["总经理", "董事长", "副总经理", "采购总监"],
    "influencer": ["财务总监", "行政经理", "采购经理", "总经理助理"],
    "user": ["行政专员", "采购专员", "仓库主管", "食堂经理"],
    "gatekeeper": ["前台", "总经理秘书", "办公室主任"],
}

SOURCES = [
    ("store", 38),
    ("web", 30),
    ("referral", 12),
    ("visit", 5),
    ("exhibition", 4),
    ("association", 2),
    ("press", 3),
    ("staff", 2),
    ("other", 4),
]
ORG_SOURCES = [
    ("visit", 30),
    ("referral", 25),
    ("exhibition", 20),
    ("association", 15),
    ("web", 10),
]

CONSENT_SOURCES_IN = ["会员注册表", "门店登记", "线上商城注册", "客服热线确认"]
CONSENT_SOURCES_OUT = {
    "sms": "短信回复TD退订",
    "email": "邮件退订链接",
    "phone": "来电要求勿扰",
}

# Interactions: channel -> (direction, subjects); outcomes by intent.
INTERACTION_SUBJECTS = {
    "visit": ("out", ["季度拜访", "年度采购洽谈", "新品推介", "合同续签沟通", "节日礼品方案沟通"]),
    "phone": ("out", ["回访电话", "满意度回访", "双十一活动邀约", "生日关怀电话", "流失客户挽回"]),
    "sms": (
        "out",
        ["双十一感谢短信", "生日祝福短信", "会员积分提醒", "新品上市通知", "春节促销短信"],
    ),
    "email": ("out", ["会员月刊", "促销活动邮件", "电子发票", "新品目录"]),
    "store": ("in", ["门店到店咨询", "门店试用", "门店提货", "会员卡办理"]),
    "hotline": ("in", ["热线咨询", "订单查询", "售后咨询", "投诉来电"]),
    "web": ("in", ["商城浏览", "领取优惠券", "老客户专区访问"]),
    "event": ("in", ["会员沙龙", "新品发布会", "亲子活动日"]),
    "chat": ("in", ["在线客服咨询", "尺码咨询", "物流咨询"]),
}
OUTCOMES = {
    "interested": ["客户表示有兴趣，约定下周再联系", "客户希望收到详细报价", "客户对新品感兴趣"],
    "not_interested": ["客户暂无需求", "客户表示预算有限", "客户已在别家采购"],
    "accepted": ["客户已下单", "客户接受优惠方案", "客户同意续签"],
    "declined": ["客户婉拒了活动邀请", "客户不接受当前价格", "客户要求不再推荐"],
    "": ["已告知活动信息", "已记录客户需求", "已解答客户问题"],
    "unreached": ["未接通", "无人接听，稍后再拨", "客户正忙，改天联系"],
}

# Feedback: kind -> [(category, [texts])].
FEEDBACK = {
    "complaint": [
        (
            "物流配送",
            [
                "快递太慢了，下单五天才到。",
                "包裹外箱破损，里面商品被压坏了。",
                "配送员没打电话就放在门口，丢件了。",
            ],
        ),
        (
            "产品质量",
            [
                "衣服洗了一次就起球，质量太差。",
                "电饭煲用了两个月就坏了。",
                "面霜用了过敏，脸上起红疹。",
            ],
        ),
        (
            "售后服务",
            [
                "退货申请提交一周了还没人处理。",
                "客服态度不好，问题没有解决。",
                "保修要求我自己寄回厂家，太麻烦。",
            ],
        ),
        ("价格", ["刚买完就降价了，要求补差价。", "会员价和网上价格差太多。"]),
        ("门店服务", ["门店排队结账时间太长。", "店员推销太频繁，体验不好。"]),
        ("食品安全", ["奶粉罐封口有破损，担心安全问题。", "零食离保质期只剩半个月。"]),
    ],
    "suggestion": [
        ("门店服务", ["希望门店周末延长营业时间。", "建议增加自助结账机。"]),
        ("会员权益", ["希望积分可以抵扣运费。", "建议生日月给会员双倍积分。"]),
        ("产品", ["希望增加大码女装。", "建议引进更多有机食品。", "希望母婴区有试用装。"]),
        ("线上商城", ["商城搜索不好用，希望改进。", "希望支持分期付款。"]),
    ],
    "praise": [
        ("门店服务", ["店员很耐心，帮我挑到合适的尺码。", "门店环境干净整洁，购物很舒心。"]),
        ("物流配送", ["双十一也是第二天就送到了，很快。", "包装很用心，一点没有压坏。"]),
        ("售后服务", ["退换货很顺利，客服响应及时。", "保修维修很快，点赞。"]),
        ("产品", ["奶粉是正品，宝宝很爱喝。", "羽绒服很暖和，性价比高。"]),
    ],
    "question": [
        ("真伪", ["请问化妆品是专柜正品吗？有防伪码吗？"]),
        ("尺码", ["我身高165体重55公斤，连衣裙穿什么码？", "童装偏大还是偏小？"]),
        ("保修", ["手机保修期多久？可以在门店保修吗？", "扫地机器人电池保修吗？"]),
        ("会员权益", ["会员积分什么时候过期？", "怎样升级为VIP会员？"]),
        ("物流配送", ["新疆地区包邮吗？", "可以指定送货时间吗？"]),
    ],
}

ORDER_SOURCES = {"store": "pos", "online": "eshop", "phone": "crm", "sales": "crm"}
ORDER_PREFIX = {"store": "POS", "online": "WEB", "phone": "TEL", "sales": "SO"}

DEMO_USERS = [
    # username, role, team (None: no team), surname, given name
    ("admin", "administrator", None, "系统", "管理员"),
    ("marketing", "marketing_manager", None, "王", "芳"),
    ("am01", "account_manager", "华东大客户组", "陈", "磊"),
    ("am02", "account_manager", "华东大客户组", "李", "婷"),
    ("am03", "account_manager", "华东大客户组", "周", "杰"),
    ("am04", "account_manager", "华南大客户组", "黄", "伟"),
    ("am05", "account_manager", "华南大客户组", "林", "静"),
    ("am06", "account_manager", "华北大客户组", "张", "强"),
    ("am07", "account_manager", "华北大客户组", "刘", "洋"),
    ("am08", "account_manager", "西部大客户组", "杨", "敏"),
    ("am09", "account_manager", "西部大客户组", "赵", "鹏"),
    ("service", "service_agent", SERVICE_TEAM, "吴", "丽"),
    ("service2", "service_agent", SERVICE_TEAM, "郑", "浩"),
    ("analyst", "analyst", None, "孙", "悦"),
]
