"""The 34 provincial-level divisions of China and the dispatch routes.

Every item is routed from its province. Shanghai, where the expo is held and
where most credentials go, is split by district into local delivery routes so
that its bags are not one unmanageable pile.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Province:
    name: str  # full official name, e.g. 上海市
    short: str  # common short form, e.g. 上海
    en: str
    route: str  # dispatch route code


PROVINCES: tuple[Province, ...] = (
    Province("北京市", "北京", "Beijing", "BJ"),
    Province("天津市", "天津", "Tianjin", "TJ"),
    Province("河北省", "河北", "Hebei", "HE"),
    Province("山西省", "山西", "Shanxi", "SX"),
    Province("内蒙古自治区", "内蒙古", "Inner Mongolia", "NM"),
    Province("辽宁省", "辽宁", "Liaoning", "LN"),
    Province("吉林省", "吉林", "Jilin", "JL"),
    Province("黑龙江省", "黑龙江", "Heilongjiang", "HL"),
    Province("上海市", "上海", "Shanghai", "SH"),
    Province("江苏省", "江苏", "Jiangsu", "JS"),
    Province("浙江省", "浙江", "Zhejiang", "ZJ"),
    Province("安徽省", "安徽", "Anhui", "AH"),
    Province("福建省", "福建", "Fujian", "FJ"),
    Province("江西省", "江西", "Jiangxi", "JX"),
    Province("山东省", "山东", "Shandong", "SD"),
    Province("河南省", "河南", "Henan", "HA"),
    Province("湖北省", "湖北", "Hubei", "HB"),
    Province("湖南省", "湖南", "Hunan", "HN"),
    Province("广东省", "广东", "Guangdong", "GD"),
    Province("广西壮族自治区", "广西", "Guangxi", "GX"),
    Province("海南省", "海南", "Hainan", "HI"),
    Province("重庆市", "重庆", "Chongqing", "CQ"),
    Province("四川省", "四川", "Sichuan", "SC"),
    Province("贵州省", "贵州", "Guizhou", "GZ"),
    Province("云南省", "云南", "Yunnan", "YN"),
    Province("西藏自治区", "西藏", "Tibet", "XZ"),
    Province("陕西省", "陕西", "Shaanxi", "SN"),
    Province("甘肃省", "甘肃", "Gansu", "GS"),
    Province("青海省", "青海", "Qinghai", "QH"),
    Province("宁夏回族自治区", "宁夏", "Ningxia", "NX"),
    Province("新疆维吾尔自治区", "新疆", "Xinjiang", "XJ"),
    Province("台湾省", "台湾", "Taiwan", "TW"),
    Province("香港特别行政区", "香港", "Hong Kong", "HK"),
    Province("澳门特别行政区", "澳门", "Macao", "MO"),
)

# Shanghai local routes by district: the expo venue (Qingpu, 国家会展中心)
# and the dense centre get their own bags.
SHANGHAI_DISTRICT_ROUTES: dict[str, str] = {
    "黄浦区": "SH-C", "徐汇区": "SH-C", "长宁区": "SH-C", "静安区": "SH-C",
    "普陀区": "SH-C", "虹口区": "SH-C", "杨浦区": "SH-C",
    "浦东新区": "SH-E",
    "闵行区": "SH-W", "青浦区": "SH-W", "松江区": "SH-W", "嘉定区": "SH-W",
    "宝山区": "SH-N", "崇明区": "SH-N",
    "奉贤区": "SH-S", "金山区": "SH-S",
}
SHANGHAI_ROUTES = {
    "SH-C": ("上海市中心城区", "Shanghai central"),
    "SH-E": ("上海浦东新区", "Shanghai Pudong"),
    "SH-W": ("上海西部（含国展中心）", "Shanghai west (expo venue)"),
    "SH-N": ("上海北部", "Shanghai north"),
    "SH-S": ("上海南部", "Shanghai south"),
}
SHANGHAI_DEFAULT_ROUTE = "SH-C"

_BY_NAME: dict[str, Province] = {}
for _p in PROVINCES:
    for _key in (_p.name, _p.short, _p.en.lower()):
        _BY_NAME[_key] = _p
# a few more forms people write
_BY_NAME.update({
    "内蒙": _BY_NAME["内蒙古"], "广西省": _BY_NAME["广西"], "新疆省": _BY_NAME["新疆"],
    "西藏省": _BY_NAME["西藏"], "宁夏省": _BY_NAME["宁夏"], "香港": _BY_NAME["香港"],
    "澳门": _BY_NAME["澳门"], "台湾": _BY_NAME["台湾"], "内蒙古省": _BY_NAME["内蒙古"],
    "hongkong": _BY_NAME["hong kong"], "macau": _BY_NAME["macao"], "inner mongolia": _BY_NAME["内蒙古"],
})


def find_province(text: str) -> Province | None:
    """The province for a full name, short form or English name, else None."""
    key = (text or "").strip()
    return _BY_NAME.get(key) or _BY_NAME.get(key.lower())


def normalize_province(text: str) -> str | None:
    """Full official name for any accepted form (`上海` → `上海市`), else None."""
    p = find_province(text)
    return p.name if p else None


def route_for(province: str, district: str | None = None) -> str | None:
    """The dispatch route code of an item from its province (and, in
    Shanghai, its district). None when the province is not recognised."""
    p = find_province(province)
    if p is None:
        return None
    if p.route == "SH":
        d = (district or "").strip()
        if d and not d.endswith(("区", "县")):
            d += "区"
        return SHANGHAI_DISTRICT_ROUTES.get(d, SHANGHAI_DEFAULT_ROUTE)
    return p.route


def all_routes() -> list[tuple[str, str, str]]:
    """(code, Chinese name, English name) for every route."""
    out = []
    for p in PROVINCES:
        if p.route == "SH":
            out.extend((code, zh, en) for code, (zh, en) in SHANGHAI_ROUTES.items())
        else:
            out.append((p.route, p.name, p.en))
    return out
