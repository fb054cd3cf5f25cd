"""Deterministic synthetic holders and addresses, for the demo data set, the
sample manifest and the benchmarks. Nothing here is a real person."""
from __future__ import annotations

import random
from dataclasses import dataclass

from ..domain.recipient import FieldError, parse_phone
from ..domain.regions import PROVINCES, SHANGHAI_DISTRICT_ROUTES, counties_of, route_for

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
COMPOUND = ["欧阳", "司马", "上官", "诸葛", "东方"]
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然子涵欣怡梓轩雨晨思远嘉怡俊杰佳琪志强建国海燕晓东文博雪梅春生丹丹"
ORG_WORDS = ["华东", "长江", "东方", "新世纪", "宏达", "恒信", "远航", "金桥", "国泰", "中联", "海纳", "瑞丰"]
ORG_KINDS = ["贸易有限公司", "科技股份有限公司", "进出口公司", "国际物流有限公司", "食品有限公司", "日报社", "电视台", "医疗器械有限公司"]
FOREIGN = ["Müller GmbH", "Dupont SA", "Rossi S.p.A.", "Tanaka Corp.", "Kim & Partners", "Silva Ltda."]
STREETS = ["人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "长江路", "黄河路", "文化路", "朝阳路", "延安路", "南京路"]
CITY_BY_PROVINCE = {
    "北京市": ["北京市"], "天津市": ["天津市"], "上海市": ["上海市"], "重庆市": ["重庆市"],
    "广东省": ["广州市", "深圳市", "东莞市", "佛山市"], "江苏省": ["南京市", "苏州市", "无锡市", "南通市"],
    "浙江省": ["杭州市", "宁波市", "温州市", "嘉兴市"], "山东省": ["济南市", "青岛市", "烟台市"],
    "四川省": ["成都市", "绵阳市"], "湖北省": ["武汉市", "宜昌市"], "福建省": ["福州市", "厦门市", "泉州市"],
}
CAPITALS = {
    "河北省": "石家庄市", "山西省": "太原市", "内蒙古自治区": "呼和浩特市", "辽宁省": "沈阳市", "吉林省": "长春市",
    "黑龙江省": "哈尔滨市", "安徽省": "合肥市", "江西省": "南昌市", "河南省": "郑州市", "湖南省": "长沙市",
    "广西壮族自治区": "南宁市", "海南省": "海口市", "贵州省": "贵阳市", "云南省": "昆明市", "西藏自治区": "拉萨市",
    "陕西省": "西安市", "甘肃省": "兰州市", "青海省": "西宁市", "宁夏回族自治区": "银川市", "新疆维吾尔自治区": "乌鲁木齐市",
    "台湾省": "台北市", "香港特别行政区": "香港", "澳门特别行政区": "澳门",
}
DISTRICTS = ["城关区", "新城区"]  # where the division data lists none (Hong Kong, Macao)
# Shanghai carries most of the load (the expo is there), then the east coast
PROVINCE_WEIGHTS = {p.name: 1.0 for p in PROVINCES}
PROVINCE_WEIGHTS.update({"上海市": 40.0, "江苏省": 8.0, "浙江省": 8.0, "北京市": 6.0, "广东省": 6.0, "山东省": 3.0})
TYPE_WEIGHTS = {"exhibitor": 45, "buyer": 35, "media": 5, "staff": 12, "guest": 3}


@dataclass
class Person:
    credential_no: str
    credential_type: str
    holder_name: str
    organization: str
    recipient_name: str
    recipient_phone: str
    province: str
    city: str
    district: str
    address: str
    postcode: str
    route: str
    language: str
    recipient_phone_e164: str = ""


def credential_no(i: int) -> str:
    return f"CIIE26{i:08d}"


class Generator:
    """Yields the same people for the same seed, in order."""

    def __init__(self, seed: int = 2026):
        self.rng = random.Random(seed)
        self._provinces = list(PROVINCE_WEIGHTS)
        self._pweights = list(PROVINCE_WEIGHTS.values())
        self._types = list(TYPE_WEIGHTS)
        self._tweights = list(TYPE_WEIGHTS.values())
        self._sh_districts = list(SHANGHAI_DISTRICT_ROUTES)

    def name(self) -> str:
        r = self.rng
        surname = r.choice(COMPOUND) if r.random() < 0.02 else r.choice(SURNAMES)
        given = "".join(r.choice(GIVEN) for _ in range(1 if r.random() < 0.35 else 2))
        return surname + given

    def person(self, i: int) -> Person:
        r = self.rng
        ctype = r.choices(self._types, self._tweights)[0]
        province = r.choices(self._provinces, self._pweights)[0]
        if province == "上海市":
            city, district = "上海市", r.choice(self._sh_districts)
        else:
            city = r.choice(CITY_BY_PROVINCE.get(province) or [CAPITALS[province]])
            district = r.choice(counties_of(province, city) or DISTRICTS)
        holder = self.name()
        foreign = ctype in ("exhibitor", "buyer") and r.random() < 0.05
        org = r.choice(FOREIGN) if foreign else r.choice(ORG_WORDS) + r.choice(ORG_KINDS)
        recipient = holder if r.random() < 0.8 else self.name()
        while True:  # a number in an allocated mobile range, as the import requires
            phone = "1" + r.choice("3456789") + f"{r.randrange(10**9):09d}"
            try:
                e164 = parse_phone(phone).e164
                break
            except FieldError:
                continue
        address = f"{r.choice(STREETS)}{r.randint(1, 2000)}号{r.randint(1, 30)}楼{r.randint(101, 2808)}室"
        postcode = f"{r.randint(10, 85)}{r.randrange(10**4):04d}"
        return Person(
            credential_no=credential_no(i), credential_type=ctype, holder_name=holder, organization=org,
            recipient_name=recipient, recipient_phone=phone, province=province, city=city,
            district=district, address=address, postcode=postcode,
            route=route_for(province, district), language="en" if foreign else "zh", recipient_phone_e164=e164,
        )
