"""Where a hotline work order is: a Lu'an county (and town where known) from coordinates, address
text or a GB/T 2260 division code.

A pure module (no models, no network): the city's divisions are a small table below, so a work
order can be routed to a county before anyone has looked at a map.

Conventions:

* **Coordinates are WGS-84** (``lat`` then ``long``), as GPS and Open311 give them. Chinese map
  SDKs (Amap, WeChat) return GCJ-02, about 500 m off here; the caller converts. Without real
  boundaries that offset is far below the error of the county approximation anyway.
* **Points without boundaries are approximate.** No boundary data ships with yiwang (the public
  ones carry no redistribution licence). A point inside the city's bounding box is given to the
  county whose government seat is nearest: ``Location.approximate`` is then ``True``. Measured
  against a boundary data set on a 0.01 degree grid, this names the right county for about 80 % of
  the city's area and accepts every point of the box, more than half of which lies outside the
  city. A city replaces it by setting ``HOTLINE_BOUNDARIES_GEOJSON`` to a GeoJSON
  FeatureCollection of its county polygons (WGS-84, property ``adcode`` or ``code``): then the
  county is the polygon that contains the point and a point in none of them is outside the city.
* **Address text** is matched against the county names (full and short: 金安区 / 金安) and the
  names of the 140 towns and streets (乡、镇、街道). A short county name counts only where it
  starts an address (or is followed by one of its towns), so that 合肥's 金寨路 is not 金寨县.
  Text that names another province or city, or 寿县 (淮南 since 2015), is refused as outside the
  city; text that names nothing known gives ``None``.
* **Precedence in location_resolve**: a point beats an address, which beats a division code. The
  address text is kept on a point's location, and when the point's county is only approximate a
  Lu'an county named in the text replaces it (a caller's "霍山县衡山镇" is better evidence than the
  nearest county seat).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from yiwang.core.errors import ValidationError

# Stable error codes (the hotline's errors.py may re-export them; never rename one).
DIVISION_INVALID = "hotline.location_division_invalid"  # not 6, 9 or 12 digits
DIVISION_HISTORICAL = "hotline.location_division_historical"  # extra: current (code or "")
OUTSIDE_CITY = "hotline.location_outside_city"  # code, address or point outside 六安市
COORDINATES_INVALID = "hotline.location_coordinates_invalid"  # one of lat/long, out of range
MISSING = "hotline.location_missing"  # nothing to locate from

Precision = Literal["city", "county", "town", "point"]
Source = Literal["coordinates", "address", "division"]

CITY_CODE = "341500"
CITY_NAME = "六安市"
CITY_DISTRICTS_CODE = "341501"  # 市辖区: the city's districts as a whole, a city-level code

# Mean Earth radius (IUGG R1), the usual choice for haversine distances.
EARTH_RADIUS_M = 6_371_008.8


class LocationError(ValidationError):
    """The location given cannot be used: malformed, historical or outside the city."""

    code = "hotline.location_invalid"


@dataclass(frozen=True, slots=True)
class County:
    code: str
    name: str
    short_name: str
    seat: str
    # The county government seat, WGS-84 degrees, rounded to 0.001 (about 100 m). Source: the
    # district centres of the cpca 0.5.5 package (resources/adcodes.csv, MIT; Amap's district
    # centres, which are the government seats, in GCJ-02) converted to WGS-84 with the standard
    # inverse offset (about 1 m residual). Only used to approximate a point's county.
    seat_lat: float
    seat_long: float
    towns: tuple[str, ...]


# The seven current county-level divisions of 六安市 (GB/T 2260 / 民政部; 叶集区 since 2015) and
# their township-level divisions (乡、镇、街道), as listed in the NBS 统计用区划代码 (names taken
# from the jionlp 1.5.31 package's copy of that list, which is Apache-2.0). Development zones
# (六安经济开发区 …) are not divisions and are left out.
# fmt: off
COUNTIES: tuple[County, ...] = (
    County(
        "341502", "金安区", "金安", "三里桥街道", 31.752, 116.534,
        (
            "三十铺镇", "三里桥街道", "东市街道", "东桥镇", "东河口镇", "中市街道", "中店乡",
            "先生店乡", "双河镇", "城北乡", "孙岗镇", "张店镇", "施桥镇", "望城街道", "木厂镇",
            "椿树镇", "横塘岗乡", "毛坦厂镇", "淠东乡", "清水河街道", "翁墩乡", "马头镇",
        ),
    ),
    County(
        "341503", "裕安区", "裕安", "小华山街道", 31.740, 116.475,
        (
            "丁集镇", "分路口镇", "单王乡", "固镇镇", "城南镇", "小华山街道", "平桥乡",
            "徐集镇", "新安镇", "江家店镇", "独山镇", "狮子岗乡", "石婆店镇", "石板冲乡",
            "罗集乡", "苏埠镇", "西市街道", "西河口乡", "青山乡", "韩摆渡镇", "顺河镇",
            "鼓楼街道",
        ),
    ),
    County(
        "341504", "叶集区", "叶集", "史河街道", 31.866, 115.920,
        ("三元镇", "史河街道", "姚李镇", "孙岗乡", "平岗街道", "洪集镇"),
    ),
    County(
        "341522", "霍邱县", "霍邱", "城关镇", 32.355, 116.273,
        (
            "三流乡", "临水镇", "临淮岗乡", "乌龙镇", "众兴集镇", "冯井镇", "冯瓴乡", "周集镇",
            "城关镇", "城西湖乡", "夏店镇", "孟集镇", "宋店乡", "岔路镇", "彭塔乡", "扈胡镇",
            "新店镇", "曹庙镇", "河口镇", "潘集镇", "王截流乡", "白莲乡", "石店镇", "花园镇",
            "范桥镇", "邵岗乡", "长集镇", "马店镇", "高塘镇", "龙潭镇",
        ),
    ),
    County(
        "341523", "舒城县", "舒城", "城关镇", 31.464, 116.944,
        (
            "万佛湖镇", "五显镇", "千人桥镇", "南港镇", "城关镇", "山七镇", "干汊河镇",
            "庐镇乡", "张母桥镇", "春秋乡", "晓天镇", "杭埠镇", "柏林乡", "桃溪镇", "棠树乡",
            "汤池镇", "河棚镇", "百神庙镇", "舒茶镇", "阙店乡", "高峰乡",
        ),
    ),
    County(
        "341524", "金寨县", "金寨", "梅山镇", 31.729, 115.929,
        (
            "全军乡", "关庙乡", "南溪镇", "双河镇", "古碑镇", "吴家店镇", "天堂寨镇", "张冲乡",
            "斑竹园镇", "果子园乡", "桃岭乡", "梅山镇", "槐树湾乡", "汤家汇镇", "沙河乡",
            "油坊店乡", "燕子河镇", "白塔畈镇", "花石乡", "铁冲乡", "长岭乡", "青山镇",
            "麻埠镇",
        ),
    ),
    County(
        "341525", "霍山县", "霍山", "衡山镇", 31.413, 116.347,
        (
            "上土市镇", "下符桥镇", "与儿街镇", "东西溪乡", "但家庙镇", "佛子岭镇", "单龙寺镇",
            "大化坪镇", "太平畈乡", "太阳乡", "漫水河镇", "磨子潭镇", "落儿岭镇", "衡山镇",
            "诸佛庵镇", "黑石渡镇",
        ),
    ),
)
# fmt: on
COUNTY_BY_CODE: dict[str, County] = {county.code: county for county in COUNTIES}

# Codes that were once 六安's and still appear in old records and ID numbers (standards.md §2.7):
# code -> (name, the area's current code, or "" when it was split between 金安区 and 裕安区).
HISTORICAL_CODES: dict[str, tuple[str, str]] = {
    "341521": ("寿县", "340422"),  # 淮南市 since 2015
    "342400": ("六安地区", CITY_CODE),
    "342401": ("六安市（县级）", ""),
    "342421": ("六安县", ""),
    "342422": ("寿县", "340422"),
    "342423": ("霍邱县", "341522"),
    "342425": ("舒城县", "341523"),
    "342426": ("金寨县", "341524"),
    "342427": ("霍山县", "341525"),
}
SHOUXIAN_CODES = ("341521", "342422")

# 六安市 spans 东经115°20′–117°14′, 北纬31°01′–32°40′ (the city government's 市情 page, as widely
# reprinted; it agrees with a boundary data set to 0.01 degree). Padded by 0.02 degree (about
# 2 km) for GPS error at the edges.
BOUNDING_BOX = (30.99, 115.31, 32.69, 117.26)  # south, west, north, east

PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江",
    "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川",
    "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "香港", "澳门", "台湾",
)  # fmt: skip
OTHER_ANHUI_CITIES = (
    "合肥", "芜湖", "蚌埠", "淮南", "马鞍山", "淮北", "铜陵", "安庆", "黄山", "滁州", "阜阳",
    "宿州", "亳州", "池州", "宣城",
)  # fmt: skip
# The county-level neighbours of 六安 (寿县 is handled on its own), by their full names only: a
# generic "X市" rule would also refuse 上土市镇 and 鼓楼夜市.
NEIGHBOURS = (
    "肥西县", "庐江县", "桐城市", "潜山市", "岳西县", "英山县", "罗田县", "麻城市", "商城县",
    "固始县", "阜南县", "颍上县", "凤台县",
)  # fmt: skip

# After a short name these make it part of a road or a place (金寨路, 霍山东路, 舒城大厦), not a
# division.
_NOT_A_DIVISION_AFTER = re.compile(
    r"[东南西北中]?(?:路|大道|大街|街(?!道)|巷|弄|桥|广场|大厦|小区|花园|公园|中学|小学|医院"
    r"|宾馆|酒店|饭店|商场|商城|公司|集团)"
)
# Before a short name these start an address segment.
_SEGMENT_START = re.compile(r"(?:^|[\s,，、;；:：(（]|六安市?|安徽省?|在|于|住|到)$")


@dataclass(frozen=True, slots=True)
class Location:
    division_code: str  # 341500 (city), a county code, or a 9/12-digit code given by the caller
    division_name: str  # 六安市, 金安区, 金安区中市街道
    address: str
    lat: float | None
    long: float | None
    precision: Precision
    source: Source
    approximate: bool = False  # the county of a point was guessed from the nearest county seat

    @property
    def county_code(self) -> str | None:
        """The 6-digit county code, or None for a city-level location."""
        code = self.division_code[:6]
        return code if code in COUNTY_BY_CODE else None


def _city_location(*, address: str, source: Source) -> Location:
    return Location(CITY_CODE, CITY_NAME, address, None, None, "city", source)


# --- division codes ------------------------------------------------------------------------


def location_from_division(code: str) -> Location:
    """The location of a GB/T 2260 code of 六安市: 6 digits (city or county) or a 9/12-digit
    town or village code under a county."""
    code = code.strip()
    if not (code.isascii() and code.isdigit() and len(code) in (6, 9, 12)):
        raise LocationError(
            DIVISION_INVALID,
            _("行政区划代码“%(code)s”无效：应为6位（区县）、9位（乡镇街道）或12位（村居）数字。")
            % {"code": code},
        )
    county_code = code[:6]
    rest = code[6:].rstrip("0")
    if county_code in (CITY_CODE, CITY_DISTRICTS_CODE) and not rest:
        return Location(CITY_CODE, CITY_NAME, "", None, None, "city", "division")
    if county_code in HISTORICAL_CODES:
        raise _historical_error(county_code)
    county = COUNTY_BY_CODE.get(county_code)
    if county is None:
        raise LocationError(
            OUTSIDE_CITY,
            _("行政区划代码%(code)s不在本市范围（六安市的代码以3415开头）。") % {"code": code},
        )
    if not rest:
        return Location(county.code, county.name, "", None, None, "county", "division")
    return Location(code, county.name, "", None, None, "town", "division")


def _historical_error(code: str) -> LocationError:
    name, current = HISTORICAL_CODES[code]
    if code in SHOUXIAN_CODES:
        message = _(
            "行政区划代码%(code)s是原六安%(period)s的寿县，寿县自2015年起划归淮南市（340422），"
            "不在本市范围。"
        ) % {"code": code, "period": "市" if code == "341521" else "地区"}
        return LocationError(OUTSIDE_CITY, message, current=current)
    if current:
        message = _(
            "行政区划代码%(code)s（%(name)s）是1999年以前六安地区的旧代码，现行代码为%(current)s。"
        ) % {"code": code, "name": name, "current": current}
    else:
        message = _(
            "行政区划代码%(code)s（%(name)s）是1999年以前六安地区的旧代码，该地已分属金安区和"
            "裕安区，请使用现行代码。"
        ) % {"code": code, "name": name}
    return LocationError(DIVISION_HISTORICAL, message, current=current)


# --- address text --------------------------------------------------------------------------


def location_from_address(text: str) -> Location | None:
    """The county (and town) of 六安市 named in free address text; None if it names none.

    Raises ``LocationError`` (``OUTSIDE_CITY``) when the text starts with another province or
    city, or names 寿县.
    """
    address = text.strip()
    compact = re.sub(r"\s+", "", address)
    if not compact:
        return None
    _refuse_outside(compact)
    county, county_end = _find_county(compact)
    if county is None:
        town_county, town = _find_town_anywhere(compact)
        if town_county is not None:
            return _town_location(town_county, town, address)
        if _names_city(compact):
            return _city_location(address=address, source="address")
        return None
    town = _find_town(county, compact[county_end:])
    if town:
        return _town_location(county, town, address)
    return Location(county.code, county.name, address, None, None, "county", "address")


def _town_location(county: County, town: str, address: str) -> Location:
    return Location(county.code, county.name + town, address, None, None, "town", "address")


def _refuse_outside(compact: str) -> None:
    body = re.sub(r"^(?:中华人民共和国|中国)", "", compact)
    _refuse_prefix(body, PROVINCES)
    body = re.sub(r"^安徽省?", "", body)
    _refuse_prefix(body, OTHER_ANHUI_CITIES)
    body = re.sub(r"^六安市?", "", body)
    _refuse_prefix(body, NEIGHBOURS)
    for match in re.finditer("寿县", body):
        if match.start() > 0 and body[match.start() - 1] in "仁灵汉永延长":
            continue  # 仁寿县, 灵寿县 …: other provinces' counties, not ours to judge
        if not _NOT_A_DIVISION_AFTER.match(body, match.end()):
            raise LocationError(
                OUTSIDE_CITY, _("寿县自2015年起划归淮南市，不在本市范围。"), place="寿县"
            )


def _refuse_prefix(body: str, places: tuple[str, ...]) -> None:
    for place in places:
        if body.startswith(place) and not _NOT_A_DIVISION_AFTER.match(body, len(place)):
            raise _outside_address_error(place)


def _outside_address_error(place: str) -> LocationError:
    return LocationError(
        OUTSIDE_CITY, _("地址“%(place)s”不在本市范围。") % {"place": place}, place=place
    )


def _find_county(compact: str) -> tuple[County | None, int]:
    """The county named earliest in the text, and where its name ends."""
    best: tuple[int, County, int] | None = None
    for county in COUNTIES:
        for match in re.finditer(county.short_name, compact):
            start, end = match.start(), match.end()
            if compact.startswith(county.name, start):
                end = start + len(county.name)
            elif not _short_name_counts(county, compact, start, end):
                continue
            if best is None or start < best[0]:
                best = (start, county, end)
            break
    if best is None:
        return None, 0
    return best[1], best[2]


def _short_name_counts(county: County, compact: str, start: int, end: int) -> bool:
    if _find_town(county, compact[end:], at_start=True):
        return True
    if _NOT_A_DIVISION_AFTER.match(compact, end):
        return False
    return bool(_SEGMENT_START.search(compact, 0, start))


def _find_town(county: County, text: str, *, at_start: bool = False) -> str:
    for town in county.towns:
        for name in _town_names(town):
            if text.startswith(name) if at_start else name in text:
                return town
    return ""


def _town_names(town: str) -> tuple[str, ...]:
    # Streets are often written as their office: 中市办事处, 中市街办.
    if town.endswith("街道"):
        stem = town[:-2]
        return (town, stem + "办事处", stem + "街办")
    return (town,)


def _find_town_anywhere(compact: str) -> tuple[County | None, str]:
    """A town named in text that names no county; None when it is not unique (城关镇)."""
    found = [(county, town) for county in COUNTIES if (town := _find_town(county, compact))]
    if len(found) != 1:
        return None, ""
    return found[0]


def _names_city(compact: str) -> bool:
    for match in re.finditer("六安市?", compact):
        if not _NOT_A_DIVISION_AFTER.match(compact, match.end()):
            return True
    return False


# --- coordinates ---------------------------------------------------------------------------


def distance_m(a_lat: float, a_long: float, b_lat: float, b_long: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (haversine, spherical Earth:
    within 0.5 % of the ellipsoidal distance, plenty for "nearby")."""
    phi1, phi2 = math.radians(a_lat), math.radians(b_lat)
    d_phi = phi2 - phi1
    d_lambda = math.radians(b_long - a_long)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def location_from_point(
    lat: float, long: float, *, boundaries: Boundaries | None = None
) -> Location:
    """The county of 六安市 that contains a WGS-84 point.

    With ``boundaries`` (by default those of ``settings.HOTLINE_BOUNDARIES_GEOJSON``, if set)
    the county is the polygon containing the point; without, the nearest county seat within the
    city's bounding box (``approximate=True``).
    """
    _check_coordinates(lat, long)
    if boundaries is None:
        boundaries = configured_boundaries()
    outside = LocationError(OUTSIDE_CITY, _("坐标不在本市范围。"), lat=lat, long=long)
    south, west, north, east = BOUNDING_BOX
    if boundaries is not None:
        code = boundaries.county_at(lat, long)
        if code is None:
            raise outside
        county = COUNTY_BY_CODE[code]
        return Location(county.code, county.name, "", lat, long, "point", "coordinates")
    if not (south <= lat <= north and west <= long <= east):
        raise outside
    county = min(COUNTIES, key=lambda c: distance_m(lat, long, c.seat_lat, c.seat_long))
    return Location(
        county.code, county.name, "", lat, long, "point", "coordinates", approximate=True
    )


def _check_coordinates(lat: float, long: float) -> None:
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise LocationError(COORDINATES_INVALID, _("纬度应在-90到90之间。"), field="lat")
    if not (math.isfinite(long) and -180 <= long <= 180):
        raise LocationError(COORDINATES_INVALID, _("经度应在-180到180之间。"), field="long")


Ring = list[tuple[float, float]]  # (long, lat) vertices, as in GeoJSON


@dataclass(frozen=True)
class _Area:
    code: str
    polygons: tuple[tuple[Ring, ...], ...]  # each: outer ring then holes
    box: tuple[float, float, float, float]  # min long, min lat, max long, max lat


class Boundaries:
    """County polygons loaded from a GeoJSON FeatureCollection (WGS-84).

    Point-in-polygon is the even-odd ray test in plain Python: one lookup per work order, on a
    few thousand vertices after the bounding-box check, needs no compiled geometry library.
    """

    def __init__(self, areas: list[_Area]):
        self.areas = areas

    @classmethod
    def from_geojson(cls, data: dict[str, Any], *, origin: str = "GeoJSON") -> Boundaries:
        areas = []
        for index, feature in enumerate(data.get("features") or []):
            properties = feature.get("properties") or {}
            code = str(properties.get("adcode", properties.get("code", "")))[:6]
            if code not in COUNTY_BY_CODE:
                raise ImproperlyConfigured(
                    f"{origin}: feature {index} has no adcode/code of a 六安 county: {code!r}"
                )
            geometry = feature.get("geometry") or {}
            if geometry.get("type") == "Polygon":
                parts = [geometry["coordinates"]]
            elif geometry.get("type") == "MultiPolygon":
                parts = geometry["coordinates"]
            else:
                raise ImproperlyConfigured(
                    f"{origin}: feature {index} is not a Polygon or MultiPolygon"
                )
            polygons = tuple(
                tuple([(float(p[0]), float(p[1])) for p in ring] for ring in part) for part in parts
            )
            points = [p for polygon in polygons for p in polygon[0]]
            if not points:
                raise ImproperlyConfigured(f"{origin}: feature {index} has an empty polygon")
            box = (
                min(p[0] for p in points),
                min(p[1] for p in points),
                max(p[0] for p in points),
                max(p[1] for p in points),
            )
            areas.append(_Area(code, polygons, box))
        if not areas:
            raise ImproperlyConfigured(f"{origin}: no features")
        return cls(areas)

    def county_at(self, lat: float, long: float) -> str | None:
        for area in self.areas:
            min_long, min_lat, max_long, max_lat = area.box
            if not (min_long <= long <= max_long and min_lat <= lat <= max_lat):
                continue
            if any(_in_polygon(long, lat, polygon) for polygon in area.polygons):
                return area.code
        return None


def _in_polygon(x: float, y: float, rings: tuple[Ring, ...]) -> bool:
    inside = False
    for ring in rings:
        j = len(ring) - 1
        for i in range(len(ring)):
            xi, yi = ring[i]
            xj, yj = ring[j]
            if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
                inside = not inside
            j = i
    return inside


@lru_cache(maxsize=4)
def boundaries_load(path: str) -> Boundaries:
    """The county polygons of a GeoJSON file, read once per process."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"HOTLINE_BOUNDARIES_GEOJSON {path!r}: {exc}") from exc
    return Boundaries.from_geojson(data, origin=path)


def configured_boundaries() -> Boundaries | None:
    path = getattr(settings, "HOTLINE_BOUNDARIES_GEOJSON", "")
    return boundaries_load(str(path)) if path else None


# --- all together --------------------------------------------------------------------------


def location_resolve(
    *,
    lat: float | None = None,
    long: float | None = None,
    address: str = "",
    division_code: str = "",
    boundaries: Boundaries | None = None,
) -> Location:
    """The location of a work order from what the caller gave: a point beats an address, which
    beats a division code (see the module docstring)."""
    if (lat is None) != (long is None):
        raise LocationError(
            COORDINATES_INVALID,
            _("纬度和经度须同时提供。"),
            field="long" if long is None else "lat",
        )
    address = address.strip()
    division_code = division_code.strip()
    if lat is not None and long is not None:
        point = location_from_point(lat, long, boundaries=boundaries)
        if not address:
            return point
        point = replace(point, address=address)
        if point.approximate:
            named = _address_quietly(address)
            if named is not None and named.precision != "city":
                return replace(
                    point,
                    division_code=named.division_code,
                    division_name=named.division_name,
                    approximate=False,
                )
        return point
    if address:
        named = location_from_address(address)
        if named is not None and named.precision != "city":
            return named
        if division_code:
            # The code is more precise than an address that names only the city, or nothing.
            return replace(location_from_division(division_code), address=address)
        return named or _city_location(address=address, source="address")
    if division_code:
        return location_from_division(division_code)
    raise LocationError(MISSING, _("请提供位置：坐标、地址或行政区划代码。"))


def _address_quietly(address: str) -> Location | None:
    try:
        return location_from_address(address)
    except LocationError:
        return None
