"""Deterministic synthetic holders and addresses, for the demo data set, the
sample manifest and the benchmarks. Nothing here is a real person."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime

from ..domain.forecast import ForecastSettings
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


_MOBILE_BLOCKS: dict[str, bool] = {}


def _allocated_mobile(phone: str) -> bool:
    """Is this generated mainland mobile number in an allocated range? Asked
    of the import's own phone rule once per block of its first five digits:
    phonenumbers' pattern for Chinese mobiles decides by five digits at most
    (`1(?:610\\d|740[0-5])\\d{6}|1(?:[38]\\d|4[57]|…)\\d{8}`)."""
    block = phone[:5]
    hit = _MOBILE_BLOCKS.get(block)
    if hit is None:
        try:
            hit = not parse_phone(block + "000000").landline
        except FieldError:
            hit = False
        _MOBILE_BLOCKS[block] = hit
    return hit


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
            if _allocated_mobile(phone):
                e164 = "+86" + phone
                break
        address = f"{r.choice(STREETS)}{r.randint(1, 2000)}号{r.randint(1, 30)}楼{r.randint(101, 2808)}室"
        postcode = f"{r.randint(10, 85)}{r.randrange(10**4):04d}"
        return Person(
            credential_no=credential_no(i), credential_type=ctype, holder_name=holder, organization=org,
            recipient_name=recipient, recipient_phone=phone, province=province, city=city,
            district=district, address=address, postcode=postcode,
            route=route_for(province, district), language="en" if foreign else "zh", recipient_phone_e164=e164,
        )


# ---------------------------------------------------------------- the demo's operation
#
# A campaign of DAYS days up to "now", played hour by hour: the organizer's
# manifest imported on the first morning, the handover, capture, acceptance
# and bagging stations working their site's shift at their own pace (rates
# per open hour at the 20,000-item scale; a bigger demo has proportionally
# more hands), bags sealed when full or at the cut-offs, trips leaving on a
# timetable per route, and EMS taking its time per route. Every item's path
# is what the queues and timetables give it; it stops at "now".

DAYS = 10
BASE_ITEMS = 20_000
# station, stage, items per open hour, first day staffed (0 = from the start)
STATION_PLAN: tuple[tuple[str, str, float, int], ...] = (
    ("WS-01", "handover", 92, 0), ("WS-02", "handover", 80, 0),
    ("WS-03", "capture", 42, 0), ("WS-04", "capture", 38, 0), ("WS-05", "capture", 34, 2),
    ("WS-06", "accept", 120, 0),
    ("WS-07", "bag", 64, 0), ("WS-08", "bag", 58, 0),
)
STAGE_SITE = {"handover": "RCC", "capture": "PCS", "accept": "PCS", "bag": "PCS"}
RAMP = (0.6, 0.85)  # the first two days, while the teams learn
LUNCH = (12, 13)  # half the pace
BAG_SIZE = 100
# partial bags are sealed at these local times; a bag opened after the last
# one waits for the next day's
CUTOFFS = ((12, 30), (18, 30))
SEAL_TO_DEPARTURE = 1.0  # hours a sealed bag needs before it can leave (loading, escort checks)
# local departure times of the escorted trips per kind of route, and the
# hours on the road: to the international mail centre (local and mainland
# routes), or the overnight convoy to the regional hub (far routes)
DEPARTURES = {"local": ((10, 0), (16, 0)), "mainland": ((13, 0), (19, 0)), "overnight": ((21, 0),)}
TRANSIT_HOURS = {"local": (3.0, 4.0), "mainland": (3.0, 4.0), "overnight": (13.0, 15.0)}
TRAY_HOURS = 0.5  # trays are carried from one table to the next every half hour
SLOW_ROUTES = frozenset({"XZ", "XJ", "QH"})  # the longest EMS haul
NEAR_ROUTES = frozenset({"JS", "ZJ", "AH"})
FAR_ROUTES = frozenset({"HL", "JL", "NM", "GS", "NX", "YN", "HI", "GX", "TW", "HK", "MO"})
TRIP_BAGS = 20
FAIL_SHARE = 0.04  # first delivery attempts that fail
NEXT_DAY_SHARE = 0.25  # deliveries that take the courier to the next day
WITHDRAW_SHARE = 0.005
HOLD_SHARE = 0.003  # per waiting status (received, captured, accepted)


def route_kind(route: str) -> str:
    """Which timetable a route's bags leave on."""
    if route.startswith("SH"):
        return "local"
    return "overnight" if route in SLOW_ROUTES or route in FAR_ROUTES else "mainland"


def tray(t: float) -> float:
    """When an item finished at t (epoch hours) reaches the next table."""
    return math.ceil(t / TRAY_HOURS - 1e-9) * TRAY_HOURS


def ems_hours(route: str) -> tuple[float, float]:
    """Hours from the mail centre to the delivery office, per route."""
    if route.startswith("SH"):
        return 1.0, 4.0
    if route in SLOW_ROUTES:
        return 70.0, 96.0
    if route in NEAR_ROUTES:
        return 12.0, 20.0
    if route in FAR_ROUTES:
        return 40.0, 60.0
    return 22.0, 36.0


class _Server:
    """One station stage: items first in, first out, at the hour's capacity."""

    def __init__(self, cap: list[float], stations: list[list[tuple[str, float]]], h0: int, end: float):
        self.cap, self.stations, self.h0, self.end = cap, stations, h0, end
        self.t = float(h0)
        self.closed = False

    def serve(self, ready: float) -> tuple[float, int] | None:
        """(finish time in epoch hours, hour index) of the next item, ready
        at `ready`; None once the stage's work runs past the end."""
        if self.closed:
            return None
        t = max(self.t, ready)
        left = 1.0
        n = len(self.cap)
        while True:
            k = int(t) - self.h0
            if k >= n:
                self.closed = True
                return None
            c = self.cap[k]
            if c <= 0:
                t = float(int(t) + 1)
                continue
            room = (int(t) + 1 - t) * c
            if room >= left:
                t += left / c
                break
            left -= room
            t = float(int(t) + 1)
        if t > self.end:
            self.closed = True
            return None
        self.t = t
        return t, int(t) - self.h0


class Operation:
    """The demo's stations, shifts and timetables from `start` to `now`
    (both aware), for `items` credentials; `site_hours` as the app config's
    SITE_HOURS. Deterministic for a seed."""

    def __init__(self, *, items: int, start, now, tz, site_hours: dict[str, tuple[int, int]], seed: int):
        hours = ForecastSettings(site_hours=site_hours, tz=tz)  # the forecast's reading of the shifts
        self.hours = hours
        self.rng = random.Random(seed * 7919 + 1)
        self.tz = tz
        self.scale = items / BASE_ITEMS
        self.h0 = int(start.timestamp()) // 3600
        self.end = now.timestamp() / 3600
        n_hours = int(self.end) - self.h0 + 1
        self.local = [self._local(self.h0 + k) for k in range(n_hours)]
        day0 = self.local[0][0]
        self.servers: dict[str, _Server] = {}
        for stage in ("handover", "capture", "accept", "bag"):
            cap, who = [], []
            for k in range(n_hours):
                d, hh, mm = self.local[k]
                day = (d - day0).days
                share = hours.open_fraction(STAGE_SITE[stage], self.h0 + k)
                pace = RAMP[day] if day < len(RAMP) else 1.0
                if LUNCH[0] <= hh < LUNCH[1]:
                    pace *= 0.5
                row = []
                for code, st, rate, first in STATION_PLAN:
                    if st == stage and day >= first and share > 0:
                        row.append((code, rate * self.scale * share * pace * self.rng.uniform(0.8, 1.15)))
                cap.append(sum(r for _, r in row))
                who.append(row)
            self.servers[stage] = _Server(cap, who, self.h0, self.end)

    def _local(self, hour: int):
        t = datetime.fromtimestamp(hour * 3600, UTC).astimezone(self.tz)
        return t.date(), t.hour, t.minute

    def station(self, stage: str, k: int) -> str:
        row = self.servers[stage].stations[k]
        if len(row) == 1:
            return row[0][0]
        return self.rng.choices([c for c, _ in row], [r for _, r in row])[0]

    def local_at(self, t: float):
        """(local date, hours since local midnight) of epoch hours t."""
        dt = datetime.fromtimestamp(t * 3600, UTC).astimezone(self.tz)
        return dt.date(), dt.hour + dt.minute / 60 + dt.second / 3600

    def next_local(self, t: float, times: tuple[tuple[int, int], ...], after: float = 0.0) -> float:
        """The first of the daily local `times` at or after t + after (epoch hours)."""
        t = t + after
        d, h = self.local_at(t)
        midnight = t - h
        for day in range(0, 3):
            for hh, mm in times:
                x = midnight + day * 24 + hh + mm / 60
                if x >= t:
                    return x
        return t

    def delivery_round(self, t: float) -> float:
        """When an item at the delivery office at t goes out: the morning round
        (08:00–09:30), or within the hour when it comes in before 15:00."""
        r = self.rng
        _, h = self.local_at(t)
        if h < 8:
            return t - h + 8 + r.uniform(0, 1.5)
        if h >= 15:
            return t - h + 24 + 8 + r.uniform(0, 1.5)
        return t + r.uniform(0.3, 1.0)
