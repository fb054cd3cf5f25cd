"""The administrative divisions of China and the dispatch routes.

Every item is routed from its province. Shanghai, where the expo is held and
where most credentials go, is split by district into local delivery routes so
that its bags are not one unmanageable pile: a Shanghai item whose district
is not known with certainty has no route (never a default one).

`place()` reads province, city and district from the manifest's columns and
from the address text, with the GB/T 2260 division data (provinces, cities,
counties, with their short forms and the renamings and mergers since 2002)
that the `jionlp` package ships and keeps current. Short forms (浦东, 沪),
traditional characters (閔行區), English names of the provinces and of
Shanghai's districts (Pudong), former names (南汇区, 闸北区, 襄樊市) and long
autonomous-region names are read; an address the data cannot place, or whose
parts contradict each other, is a `PlaceError` naming the field.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import re
import unicodedata
import zipfile
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import TypeVar


@dataclass(frozen=True)
class Province:
    name: str  # full official name, e.g. 上海市
    short: str  # common short form, e.g. 上海
    en: str
    route: str  # dispatch route code
    abbr: str = ""  # one-character abbreviation(s), e.g. 沪


PROVINCES: tuple[Province, ...] = (
    Province("北京市", "北京", "Beijing", "BJ", "京"),
    Province("天津市", "天津", "Tianjin", "TJ", "津"),
    Province("河北省", "河北", "Hebei", "HE", "冀"),
    Province("山西省", "山西", "Shanxi", "SX", "晋"),
    Province("内蒙古自治区", "内蒙古", "Inner Mongolia", "NM", "蒙"),
    Province("辽宁省", "辽宁", "Liaoning", "LN", "辽"),
    Province("吉林省", "吉林", "Jilin", "JL", "吉"),
    Province("黑龙江省", "黑龙江", "Heilongjiang", "HL", "黑"),
    Province("上海市", "上海", "Shanghai", "SH", "沪"),
    Province("江苏省", "江苏", "Jiangsu", "JS", "苏"),
    Province("浙江省", "浙江", "Zhejiang", "ZJ", "浙"),
    Province("安徽省", "安徽", "Anhui", "AH", "皖"),
    Province("福建省", "福建", "Fujian", "FJ", "闽"),
    Province("江西省", "江西", "Jiangxi", "JX", "赣"),
    Province("山东省", "山东", "Shandong", "SD", "鲁"),
    Province("河南省", "河南", "Henan", "HA", "豫"),
    Province("湖北省", "湖北", "Hubei", "HB", "鄂"),
    Province("湖南省", "湖南", "Hunan", "HN", "湘"),
    Province("广东省", "广东", "Guangdong", "GD", "粤"),
    Province("广西壮族自治区", "广西", "Guangxi", "GX", "桂"),
    Province("海南省", "海南", "Hainan", "HI", "琼"),
    Province("重庆市", "重庆", "Chongqing", "CQ", "渝"),
    Province("四川省", "四川", "Sichuan", "SC", "川蜀"),
    Province("贵州省", "贵州", "Guizhou", "GZ", "贵黔"),
    Province("云南省", "云南", "Yunnan", "YN", "云滇"),
    Province("西藏自治区", "西藏", "Tibet", "XZ", "藏"),
    Province("陕西省", "陕西", "Shaanxi", "SN", "陕秦"),
    Province("甘肃省", "甘肃", "Gansu", "GS", "甘陇"),
    Province("青海省", "青海", "Qinghai", "QH", "青"),
    Province("宁夏回族自治区", "宁夏", "Ningxia", "NX", "宁"),
    Province("新疆维吾尔自治区", "新疆", "Xinjiang", "XJ", "新"),
    Province("台湾省", "台湾", "Taiwan", "TW", "台"),
    Province("香港特别行政区", "香港", "Hong Kong", "HK", "港"),
    Province("澳门特别行政区", "澳门", "Macao", "MO", "澳"),
)
MUNICIPALITIES = frozenset({"北京市", "天津市", "上海市", "重庆市"})
# no county data in GB/T 2260 for these: city and district are kept as written
UNDIVIDED = frozenset({"台湾省", "香港特别行政区", "澳门特别行政区"})

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
# Shanghai's former districts and counties (mergers before the data's change
# list begins): 1988 吴淞, 1992 上海县, 1993 川沙, 2000 南市, 2009 南汇,
# 2011 卢湾, 2015 闸北, 2016 崇明县; and the counties that became districts.
SHANGHAI_FORMER = {
    "南汇区": "浦东新区", "南汇县": "浦东新区", "川沙县": "浦东新区", "卢湾区": "黄浦区", "南市区": "黄浦区",
    "闸北区": "静安区", "吴淞区": "宝山区", "上海县": "闵行区", "崇明县": "崇明区", "嘉定县": "嘉定区",
    "宝山县": "宝山区", "青浦县": "青浦区", "松江县": "松江区", "金山县": "金山区", "奉贤县": "奉贤区",
}
SHANGHAI_DISTRICTS_EN = {
    "huangpu": "黄浦区", "xuhui": "徐汇区", "changning": "长宁区", "jingan": "静安区", "putuo": "普陀区",
    "hongkou": "虹口区", "yangpu": "杨浦区", "pudong": "浦东新区", "pudongnew": "浦东新区",
    "minhang": "闵行区", "qingpu": "青浦区", "songjiang": "松江区", "jiading": "嘉定区", "baoshan": "宝山区",
    "chongming": "崇明区", "fengxian": "奉贤区", "jinshan": "金山区",
    "nanhui": "浦东新区", "luwan": "黄浦区", "zhabei": "静安区",
}

# ---- provinces by every name ------------------------------------------------

_BY_NAME: dict[str, Province] = {}
for _p in PROVINCES:
    for _form in (_p.name, _p.short, _p.en.lower(), _p.en.lower().replace(" ", "")):
        _BY_NAME[_form] = _p
# other forms people write: long autonomous-region names with variants,
# "省" added where it does not belong, English variants
_BY_NAME.update({
    "内蒙": _BY_NAME["内蒙古"], "内蒙古省": _BY_NAME["内蒙古"], "广西省": _BY_NAME["广西"],
    "广西壮族自治区": _BY_NAME["广西"], "广西自治区": _BY_NAME["广西"], "新疆省": _BY_NAME["新疆"],
    "新疆维吾尔族自治区": _BY_NAME["新疆"], "新疆自治区": _BY_NAME["新疆"], "西藏省": _BY_NAME["西藏"],
    "西藏藏族自治区": _BY_NAME["西藏"], "宁夏省": _BY_NAME["宁夏"], "宁夏回族自治区": _BY_NAME["宁夏"],
    "宁夏自治区": _BY_NAME["宁夏"], "香港特区": _BY_NAME["香港"], "澳门特区": _BY_NAME["澳门"],
    "台湾地区": _BY_NAME["台湾"], "hongkong": _BY_NAME["hong kong"], "hongkongsar": _BY_NAME["hong kong"],
    "macau": _BY_NAME["macao"], "xizang": _BY_NAME["tibet"], "nei mongol": _BY_NAME["内蒙古"],
    "neimenggu": _BY_NAME["内蒙古"], "shanghai shi": _BY_NAME["shanghai"], "beijing shi": _BY_NAME["beijing"],
})
_ABBR: dict[str, Province] = {a: p for p in PROVINCES for a in p.abbr}
_PROVINCE_BY_FULL = {p.name: p for p in PROVINCES}


def _to_simplified(text: str) -> str:
    return text.translate(_data().tra2sim) if not text.isascii() else text


@lru_cache(maxsize=8192)
def _key(text: str | None) -> str:
    """A name as it is looked up: NFKC, traditional → simplified, blanks removed."""
    s = (text or "").strip()
    if not s.isascii():
        s = _to_simplified(unicodedata.normalize("NFKC", s))
    return re.sub(r"[\s·・]+", "", s) if not s.isascii() else " ".join(s.lower().replace("'", "").split())


@lru_cache(maxsize=1024)
def find_province(text: str) -> Province | None:
    """The province for a full name, short form, abbreviation (沪), long or
    traditional form (廣西壯族自治區) or English name, else None."""
    k = _key(text)
    if not k:
        return None
    return _BY_NAME.get(k) or _ABBR.get(k) or _BY_NAME.get(k.replace(" ", ""))


def normalize_province(text: str) -> str | None:
    """Full official name for any accepted form (`上海` → `上海市`), else None."""
    p = find_province(text)
    return p.name if p else None


def route_for(province: str, district: str | None = None) -> str | None:
    """The dispatch route code of an item from its province and, in Shanghai,
    its district (official name or short form). None when the province is not
    recognised, or for a Shanghai item whose district is not one of its 16:
    there is no default route."""
    p = find_province(province)
    if p is None:
        return None
    if p.route == "SH":
        return SHANGHAI_DISTRICT_ROUTES.get(_shanghai_district(district or ""))
    return p.route


@lru_cache(maxsize=1024)
def _shanghai_district(text: str) -> str:
    d = _key(text)
    if d in SHANGHAI_DISTRICT_ROUTES:
        return d
    if d in SHANGHAI_FORMER:
        return SHANGHAI_FORMER[d]
    for suffix in ("区", "县"):
        if d + suffix in SHANGHAI_DISTRICT_ROUTES:
            return d + suffix
        if d + suffix in SHANGHAI_FORMER:
            return SHANGHAI_FORMER[d + suffix]
    if d == "浦东":
        return "浦东新区"
    return SHANGHAI_DISTRICTS_EN.get(_english_place(d), "")


def all_routes() -> list[tuple[str, str, str]]:
    """(code, Chinese name, English name) for every route."""
    out: list[tuple[str, str, str]] = []
    for p in PROVINCES:
        if p.route == "SH":
            out.extend((code, zh, en) for code, (zh, en) in SHANGHAI_ROUTES.items())
        else:
            out.append((p.route, p.name, p.en))
    return out


# ---- the division data ----------------------------------------------------------

@dataclass(frozen=True)
class Division:
    """A city (level 2) or county-level division (level 3) of a province."""

    name: str  # current official name
    level: int
    province: str  # full name
    city: str | None = None  # for a county: its city's full name


@dataclass
class _Data:
    tra2sim: dict[int, str]
    # per province: name or short form → the divisions it can mean
    cities: dict[str, dict[str, list[Division]]] = field(default_factory=dict)
    counties: dict[str, dict[str, list[Division]]] = field(default_factory=dict)
    # any province: full city / county names (for an address without province)
    all_cities: dict[str, list[Division]] = field(default_factory=dict)
    all_counties: dict[str, list[Division]] = field(default_factory=dict)
    # any province: city names and short forms (another province's city in an address)
    all_city_names: dict[str, list[Division]] = field(default_factory=dict)
    max_len: int = 12
    version: str = ""


def _jionlp_dictionary() -> Path:
    # the files only: importing jionlp itself loads far more than we need
    spec = importlib.util.find_spec("jionlp")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the administrative-division data (package jionlp) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "dictionary"


def _add(index: dict[str, list[Division]], name: str, div: Division) -> None:
    if name and len(name) >= 2:
        entries = index.setdefault(name, [])
        if div not in entries:
            entries.append(div)


@lru_cache(maxsize=1)
def _data() -> _Data:
    """Load the division data once per process (about 0.3 s)."""
    folder = _jionlp_dictionary()
    tra2sim = {}
    for line in (folder / "tra2sim_char.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and len(parts[0]) == 1 and len(parts[1]) == 1:
            tra2sim[ord(parts[0])] = parts[1]
    # a few the table maps to rare forms, and forms it lacks
    tra2sim.update({ord("鍾"): "钟", ord("臺"): "台", ord("灣"): "湾", ord("區"): "区", ord("縣"): "县"})
    data = _Data(tra2sim=tra2sim)
    province = city = None
    with zipfile.ZipFile(folder / "china_location.zip") as zf:
        text = zf.read("china_location.txt")
    # provinces, cities and counties only (towns and villages have 3-4 tabs)
    for raw in re.findall(rb"^\t{0,2}[^\t\r\n][^\r\n]*", text, re.M):
        line = raw.decode("utf-8")
        depth = len(line) - len(line.lstrip("\t"))
        parts = line.strip().split("\t")
        if depth == 0 and len(parts) == 3:
            province, city = parts[0], None
            data.cities.setdefault(province, {})
            data.counties.setdefault(province, {})
        elif depth == 1 and len(parts) == 3 and province:
            city = parts[0]
            div = Division(city, 2, province)
            for name in (parts[0], *parts[2].split("/")):
                _add(data.cities[province], name, div)
                _add(data.all_city_names, name, div)
            _add(data.all_cities, parts[0], div)
        elif depth == 2 and len(parts) == 3 and province and city:
            div = Division(parts[0], 3, province, city)
            for name in (parts[0], parts[2]):
                _add(data.counties[province], name, div)
            _add(data.all_counties, parts[0], div)
    _load_changes(data, folder / "china_location_change.txt")
    sh = data.counties.setdefault("上海市", {})
    for old, new in SHANGHAI_FORMER.items():
        div = Division(new, 3, "上海市", "上海市")
        _add(sh, old, div)
        if old.endswith("区") and old[:-1] not in sh:
            _add(sh, old[:-1], div)
    data.max_len = max(len(k) for index in (data.all_cities, data.all_counties, _BY_NAME) for k in index)
    return data


def _load_changes(data: _Data, path: Path) -> None:
    """Former names (renamed or merged divisions) → the current division."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=>" not in line:
            continue
        old, new = line.split("=>", 1)
        old_parts = old.split("\t")[2:]  # date, approval, then the names
        new_parts = new.split("\t")
        if len(old_parts) == 6 and len(new_parts) == 3:
            province = new_parts[0]
            div = Division(new_parts[2], 3, province, new_parts[1])
            for name in old_parts[4:6]:
                if name not in data.counties.get(province, {}):  # a current name wins
                    _add(data.counties.setdefault(province, {}), name, div)
            if old_parts[4] not in data.all_counties:
                _add(data.all_counties, old_parts[4], div)
        elif len(old_parts) == 4 and len(new_parts) == 2:
            province = new_parts[0]
            div = Division(new_parts[1], 2, province)
            for name in old_parts[2:4]:
                if name not in data.cities.get(province, {}):
                    _add(data.cities.setdefault(province, {}), name, div)
            if old_parts[2] not in data.all_cities:
                _add(data.all_cities, old_parts[2], div)


def data_version() -> str:
    """The division data in use (package and version), for the docs and reports."""
    from importlib.metadata import version

    return f"jionlp {version('jionlp')}"


# ---- placing an address -----------------------------------------------------------

@dataclass(frozen=True)
class Placement:
    """Where an item goes: province, city and district as the data names them
    (city and district as written where the data has no entry), and its route."""

    province: str
    city: str
    district: str
    route: str


@dataclass(eq=False)
class PlaceError(Exception):
    """An address that cannot be placed with certainty; `key` is one of
    domain.recipient.MESSAGES."""

    field: str
    value: str
    key: str
    params: dict[str, str | int | float] = dataclasses.field(default_factory=dict)  # `field` above hides field()

    def __str__(self) -> str:
        return f"{self.field} {self.value!r}: {self.key} {self.params}"


# a short name followed by one of these is a street or a place inside a
# district (北京东路, 长宁路, 浦东大道), not the division itself
_STREET = re.compile(r"[东西南北中]?(?:路|街|道|大道|大街|巷|弄|里|桥|村|镇|乡|湾|港|广场|花园|小区|新村|公路|公园|"
                     r"大厦|机场|站|码头|寺|山|湖|江|河|门|口|坊)")
_DIVISION_SUFFIX = re.compile(r"[市县区州盟旗]")
_COUNTRY = re.compile(r"^(?:中华人民共和国|中国大陆|中国|china|prc|p\.r\.china|p\.r\.c\.)[,，\s]*", re.I)
_CJK = re.compile(r"[\u3400-\u9fff\U00020000-\U0003134f]")
_LATIN_SUFFIX = re.compile(r"\b(?:new area|new district|district|qu|city|shi|municipality|province|sheng|county|xian)\b")


def _english_place(text: str) -> str:
    s = text.lower().replace("'", "").replace("’", "").replace("-", " ")
    s = _LATIN_SUFFIX.sub(" ", s)
    return "".join(s.split())


@dataclass
class _Found:
    """What the address text names at its start."""

    province: Province | None = None
    cities: list[Division] = field(default_factory=list)
    counties: list[Division] = field(default_factory=list)
    text: dict[str, str] = field(default_factory=dict)  # level → the words as written


_V = TypeVar("_V")
_LENGTHS: dict[int, tuple[Mapping[str, object], dict[str, tuple[int, ...]]]] = {}


def _lengths(index: Mapping[str, object]) -> dict[str, tuple[int, ...]]:
    """First character → the lengths of the names starting with it, longest first."""
    out: dict[str, set[int]] = {}
    for name in index:
        out.setdefault(name[0], set()).add(len(name))
    return {c: tuple(sorted(ns, reverse=True)) for c, ns in out.items()}


def _match(text: str, pos: int, index: Mapping[str, _V], max_len: int, *,
           cached: bool = True) -> tuple[str, _V | None]:
    """The longest name of `index` at `pos` of `text`: (name, entries) or ("", None)."""
    if pos >= len(text):
        return "", None
    if cached:
        entry = _LENGTHS.get(id(index))
        if entry is None or entry[0] is not index:
            entry = _LENGTHS[id(index)] = (index, _lengths(index))
        lengths = entry[1].get(text[pos], ())
    else:
        lengths = _lengths(index).get(text[pos], ())
    rest = len(text) - pos
    for n in lengths:
        if n <= rest and n <= max_len:
            hit = index.get(text[pos:pos + n])
            if hit is not None:
                return text[pos:pos + n], hit
    return "", None


def _is_street(text: str, end: int, name: str, full_names: Container[str]) -> bool:
    return name not in full_names and bool(_STREET.match(text, end))


def _longer_division(text: str, pos: int, name: str) -> bool:
    """Does a city or county name longer than the province name `name`
    start at pos (天津市河北区: 河北区 is Tianjin's, not 河北)?"""
    data = _data()
    return any(len(_match(text, pos, index, data.max_len)[0]) > len(name)
               for index in (data.all_cities, data.all_counties))


def _scan_text(address: str, province: Province | None) -> _Found:
    """Province, city and county named at the start of a Chinese address
    (`上海市浦东新区…`, `沪闵行区…`, `上海上海市浦东…`)."""
    data = _data()
    text = _key(address)
    text = _COUNTRY.sub("", text)
    found = _Found()
    pos = 0
    for _step in range(6):
        if pos >= len(text):
            break
        name, p = _match(text, pos, _BY_NAME, 8)
        if p is not None and _longer_division(text, pos, name):
            p = None  # 河北区, 港北区, 海南藏族自治州: a division whose name starts with a province's
        if p is not None and not _is_street(text, pos + len(name), name, _PROVINCE_BY_FULL):
            if found.province is not None and found.province != p:
                found.text["province2"] = name
                return found
            found.province, found.text["province"] = p, name
            pos += len(name)
            continue
        prov = found.province or province
        if pos == 0 and text[0] in _ABBR and found.province is None and not _longer_division(text, 0, ""):
            # a one-character abbreviation counts only before a division of its province, and not
            # where a division's own name starts (港北区 is Guigang's, not 港 + 北区)
            ap = _ABBR[text[0]]
            nm, hit = _match(text, 1, data.cities.get(ap.name, {}), data.max_len)
            if hit is None:
                nm, hit = _match(text, 1, data.counties.get(ap.name, {}), data.max_len)
            if hit is not None and not _is_street(text, 1 + len(nm), nm, ()):
                found.province, found.text["province"] = ap, text[0]
                pos = 1
                continue
        if prov is not None:
            cities, counties = data.cities.get(prov.name, {}), data.counties.get(prov.name, {})
        else:
            cities, counties = data.all_cities, data.all_counties
        if not found.counties:
            name, hit = _match(text, pos, cities, data.max_len)
            if hit is not None and not found.cities and not _is_street(text, pos + len(name), name, data.all_cities):
                found.cities, found.text["city"] = hit, name
                pos += len(name)
                continue
            if hit is not None and prov is not None and prov.name in MUNICIPALITIES:
                pos += len(name)  # 上海市上海市…: the city named again
                continue
            name, hit = _match(text, pos, counties, data.max_len)
            if hit is not None and not _is_street(text, pos + len(name), name, data.all_counties):
                if found.cities:
                    cities_named = {c.name for c in found.cities}
                    narrowed = [d for d in hit if d.city in cities_named]
                    hit = narrowed or hit
                found.counties, found.text["county"] = hit, name
                pos += len(name)
                continue
            if prov is not None:
                # a full city or county name of another province (杭州市… in a Shanghai row)
                for index in (data.all_cities, data.all_counties, data.all_city_names):
                    name, hit = _match(text, pos, index, data.max_len)
                    if index is data.all_city_names and hit is not None and not _DIVISION_SUFFIX.match(
                            text, pos + len(name)):
                        continue  # a short city name not followed by 市/县/区…: may be a street or a shop
                    if hit is not None and not any(d.province == prov.name for d in hit):
                        found.text["foreign"] = name
                        return found
        break
    return found


def _scan_english(address: str) -> _Found:
    """Province and Shanghai district named in an address written in English
    (`100 Century Ave, Pudong New Area, Shanghai`)."""
    found = _Found()
    for part in re.split(r"[,，;/\n]", address):
        words = _english_place(part)
        if not words:
            continue
        p = _BY_NAME.get(" ".join(part.lower().split())) or _BY_NAME.get(words)
        if p is not None and found.province is None:
            found.province, found.text["province"] = p, part.strip()
            continue
        d = SHANGHAI_DISTRICTS_EN.get(words)
        if d is not None and not found.counties:
            found.counties = [Division(d, 3, "上海市", "上海市")]
            found.text["county"] = part.strip()
    return found


def _resolve(divs: list[Division], written: str, field_name: str, value: str) -> tuple[str, str | None]:
    """(division name, its city or None when several cities have it) for the
    divisions a name can mean; PlaceError `ambiguous` when they differ."""
    names = sorted({d.name for d in divs})
    if len(names) != 1:
        exact = [d for d in divs if d.name == written]
        if not exact:
            raise PlaceError(field_name, value, "ambiguous", {"options": "、".join(names)})
        divs, names = exact, [written]
    cities = {d.city for d in divs}
    return names[0], (cities.pop() if len(cities) == 1 else None)


def _contradiction(field_name: str, value: str, found: str, other_field: str, other: str) -> PlaceError:
    return PlaceError(field_name, value, "contradiction", {"found": found, "other_field": other_field, "other": other})


def place(province: str, city: str, district: str, address: str) -> Placement:
    """Place an item from its province, city and district columns and its
    address text. Raises PlaceError (field, value, key) when the data cannot
    place it, when the parts contradict each other, or for a Shanghai address
    without a district."""
    data = _data()
    p_col = find_province(province) if province else None
    if province and p_col is None:
        raise PlaceError("province", province, "bad_province")
    latin = bool(address) and not _CJK.search(address)
    found = _scan_english(address) if latin else _scan_text(address, p_col)
    if "province2" in found.text:
        raise _contradiction("address", address, found.text["province2"], "address", found.text["province"])
    if "foreign" in found.text:
        raise _contradiction("address", address, found.text["foreign"], "province", province)
    p_text = found.province
    if p_col is not None and p_text is not None and p_text != p_col:
        raise _contradiction("address", address, found.text["province"], "province", province)
    prov = p_col or p_text
    if prov is None:
        # a city or county named in the text or a column names the province
        candidates = {d.province for d in (found.cities or found.counties)}
        for col, index in ((city, data.all_cities), (district, data.all_counties)):
            if col and not candidates:
                candidates = {d.province for d in index.get(_key(col), [])}
        if len(candidates) > 1:
            raise PlaceError("address" if address else "province", address or province, "ambiguous",
                             {"options": "、".join(sorted(candidates))})
        if candidates:
            prov = _PROVINCE_BY_FULL.get(candidates.pop())
        if prov is None:
            raise PlaceError("province", province, "no_province" if address else "required")
    if prov.name in UNDIVIDED:
        return Placement(prov.name, city, district, prov.route)
    if found.cities and not any(d.province == prov.name for d in found.cities):
        raise _contradiction("address", address, found.text["city"], "province", province or prov.name)
    if found.counties and not any(d.province == prov.name for d in found.counties):
        raise _contradiction("address", address, found.text["county"], "province", province or prov.name)

    cities, counties = data.cities.get(prov.name, {}), data.counties.get(prov.name, {})
    same_as_province = {_key(prov.name), _key(prov.short), prov.en.lower(), "市辖区"}
    # the city: column, then text
    city_name = None
    city_key = _key(city)
    if city and city_key not in same_as_province:
        hits = cities.get(city_key)
        if hits is None and prov.name in MUNICIPALITIES and (city_key in counties or prov.name == "上海市"
                                                               and _shanghai_district(city)):
            # a district written in the city column of a municipality: the district, unless the
            # district column names another one (浦东新区 / 闵行区 cannot both be the item's)
            if district and _key(district) != city_key:
                other = _key(district)
                if prov.name == "上海市":
                    same = _shanghai_district(city) == _shanghai_district(district)
                else:
                    same = ({d.name for d in counties.get(city_key, [])}
                            == {d.name for d in counties.get(other) or counties.get(other + "区") or []})
                if not same:
                    raise _contradiction("city", city, city, "district", district)
            district, city_key = city, ""
        elif hits is None:
            if not (city.isascii() and prov.name != "上海市"):
                raise PlaceError("city", city, "bad_city", {"province": prov.name})
            # an English city name outside Shanghai: kept as written (the route is the province's)
        else:
            city_name, _ = _resolve(hits, city_key, "city", city)
    t_cities = [d for d in found.cities if d.province == prov.name]
    if t_cities and prov.name not in MUNICIPALITIES:
        t_city, _ = _resolve(t_cities, found.text["city"], "address", address)
        if city_name and t_city != city_name:
            raise _contradiction("address", address, found.text["city"], "city", city)
        city_name = city_name or t_city

    # the district: column, then text
    dist_key = _key(district)
    col_divs: list[Division] = []
    if district and dist_key not in same_as_province | {city_key}:
        if prov.name == "上海市":
            sh = _shanghai_district(district)
            col_divs = [Division(sh, 3, "上海市", "上海市")] if sh else []
        else:
            col_divs = counties.get(dist_key) or counties.get(dist_key + "区") or counties.get(dist_key + "县") or []
        if not col_divs and not (district.isascii() and prov.name != "上海市"):
            raise PlaceError("district", district, "bad_district", {"province": prov.name})
    elif district:
        district = ""  # the province or city named again

    def in_city(divs: list[Division]) -> list[Division]:
        if city_name is None or prov.name in MUNICIPALITIES:
            return divs
        return [d for d in divs if d.city == city_name]

    county = county_city = None
    if col_divs:
        inside = in_city(col_divs)
        if not inside:
            assert city_name is not None  # in_city() keeps every division when there is no city
            raise _contradiction("district", district, district, "city", city or city_name)
        county, county_city = _resolve(inside, dist_key, "district", district)
    t_divs = [d for d in found.counties if d.province == prov.name]
    if t_divs:
        inside = in_city(t_divs)
        if not inside:
            assert city_name is not None  # in_city() keeps every division when there is no city
            raise _contradiction("address", address, found.text["county"], "city", city or city_name)
        t_county, t_county_city = _resolve(inside, found.text["county"], "address", address)
        if county is not None and t_county != county:
            raise _contradiction("address", address, found.text["county"], "district", district)
        if county is None:
            county, county_city = t_county, t_county_city

    if prov.route == "SH":
        if county is None:
            raise PlaceError("district", district, "district_needed", {"province": prov.name})
        return Placement(prov.name, "上海市", county, SHANGHAI_DISTRICT_ROUTES[county])
    if prov.name in MUNICIPALITIES:
        out_city = prov.name
    else:
        out_city = city_name or county_city or city
    return Placement(prov.name, out_city, county or district, prov.route)


def counties_of(province: str, city: str) -> list[str]:
    """The current county-level divisions of a city (full names), sorted."""
    return list(_counties_of(province, city))


@cache
def _counties_of(province: str, city: str) -> tuple[str, ...]:
    divs = _data().counties.get(province, {})
    return tuple(sorted({d.name for entries in divs.values() for d in entries if d.city == city and d.level == 3}))
