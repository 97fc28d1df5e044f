"""Locating a work order from address text, coordinates and division codes (a pure module)."""

from __future__ import annotations

import json
import math

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from yiwang.core.errors import ValidationError
from yiwang.hotline.location import (
    COORDINATES_INVALID,
    COUNTIES,
    DIVISION_HISTORICAL,
    DIVISION_INVALID,
    EARTH_RADIUS_M,
    MISSING,
    OUTSIDE_CITY,
    Boundaries,
    Location,
    LocationError,
    boundaries_load,
    distance_m,
    location_from_address,
    location_from_division,
    location_from_point,
    location_resolve,
)

# --- address text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "name", "precision"),
    [
        ("六安市金安区中市街道人民路12号路灯不亮", "341502", "金安区中市街道", "town"),
        ("安徽省六安市金安区中市街道人民路12号", "341502", "金安区中市街道", "town"),
        ("裕安区西市街道", "341503", "裕安区西市街道", "town"),
        ("霍山县衡山镇", "341525", "霍山县衡山镇", "town"),
        ("金安三十铺镇老街", "341502", "金安区三十铺镇", "town"),
        ("叶集平岗街道史河路", "341504", "叶集区平岗街道", "town"),
        ("霍邱城关镇光明街", "341522", "霍邱县城关镇", "town"),
        ("舒城县城关镇", "341523", "舒城县城关镇", "town"),
        ("金寨县梅山镇红军广场", "341524", "金寨县梅山镇", "town"),
        ("六安市裕安区", "341503", "裕安区", "county"),
        ("裕安区人民医院门口", "341503", "裕安区", "county"),
        ("金安", "341502", "金安区", "county"),
        ("叶集", "341504", "叶集区", "county"),
        ("霍邱", "341522", "霍邱县", "county"),
        ("六安霍邱县冯井镇", "341522", "霍邱县冯井镇", "town"),
        ("舒城杭埠镇工业园", "341523", "舒城县杭埠镇", "town"),
        ("我住在金寨，天堂寨镇的路坏了", "341524", "金寨县天堂寨镇", "town"),
        ("  霍山 县 佛子岭镇 ", "341525", "霍山县佛子岭镇", "town"),
        # a short name inside a sentence counts when one of its towns follows (双河镇 is
        # also in 金寨)
        ("老家金安双河镇", "341502", "金安区双河镇", "town"),
        # a street written as its office
        ("金安区东市办事处对面", "341502", "金安区东市街道", "town"),
        # a town that exists in one county only names its county
        ("毛坦厂镇中学附近", "341502", "金安区毛坦厂镇", "town"),
        ("苏埠镇", "341503", "裕安区苏埠镇", "town"),
        # the earliest county named wins
        ("裕安区西市街道，靠近金安区", "341503", "裕安区西市街道", "town"),
        # a town whose name holds 市 is not a city
        ("上土市镇", "341525", "霍山县上土市镇", "town"),
        ("鼓楼街道夜市", "341503", "裕安区鼓楼街道", "town"),
        # only the city
        ("六安市人民路12号", "341500", "六安市", "city"),
    ],
)
def test_address_names_county_and_town(text, code, name, precision):
    location = location_from_address(text)

    assert location == Location(code, name, text.strip(), None, None, precision, "address")


@pytest.mark.parametrize(
    "text",
    [
        "人民路12号",  # no division at all
        "城关镇解放路",  # 城关镇 is in 霍邱 and in 舒城
        "双河镇",  # in 金安 and in 金寨
        "金寨路与长江路交口",  # a road (合肥 has one), not 金寨县
        "霍山东路",
        "六安路",
        "上海路12号",  # a road named after a province
        "鼓楼夜市旁",  # "X市" that is no city
        "城北农贸市场",
        "",
        "   ",
    ],
)
def test_address_naming_no_division_gives_none(text):
    assert location_from_address(text) is None


def test_a_short_name_inside_a_word_is_not_a_county():
    # 金安 in a company's name after other text: not an address segment
    assert location_from_address("物业是金安物业公司") is None


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("合肥市蜀山区长江西路", "合肥"),
        ("安徽省合肥市金寨路", "合肥"),
        ("合肥蜀山区", "合肥"),
        ("淮南市寿县", "淮南"),
        ("河南省固始县", "河南"),
        ("湖北英山县", "湖北"),
        ("桐城市文昌街道", "桐城市"),
        ("固始县城关镇", "固始县"),
        ("六安市肥西县", "肥西县"),
        ("中国安徽省合肥市蜀山区", "合肥"),
        ("寿县正阳关镇", "寿县"),
        ("六安市寿县", "寿县"),
    ],
)
def test_address_outside_the_city_is_refused(text, place):
    with pytest.raises(LocationError) as caught:
        location_from_address(text)

    assert caught.value.code == OUTSIDE_CITY
    assert caught.value.extra == {"place": place}
    assert "不在本市范围" in str(caught.value.message)


def test_shouxian_is_explained():
    with pytest.raises(LocationError) as caught:
        location_from_address("寿县")

    assert str(caught.value.message) == "寿县自2015年起划归淮南市，不在本市范围。"


def test_other_provinces_counties_ending_in_shouxian_are_not_ours_to_refuse():
    assert location_from_address("仁寿县") is None


def test_location_error_is_a_validation_error():
    assert issubclass(LocationError, ValidationError)
    assert LocationError.status == 422


# --- division codes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected_code", "name", "precision"),
    [
        ("341500", "341500", "六安市", "city"),
        ("341501", "341500", "六安市", "city"),
        ("341502", "341502", "金安区", "county"),
        ("341503", "341503", "裕安区", "county"),
        ("341504", "341504", "叶集区", "county"),
        ("341522", "341522", "霍邱县", "county"),
        ("341523", "341523", "舒城县", "county"),
        ("341524", "341524", "金寨县", "county"),
        ("341525", "341525", "霍山县", "county"),
        (" 341525 ", "341525", "霍山县", "county"),
        ("341502001", "341502001", "金安区", "town"),
        ("341502001002", "341502001002", "金安区", "town"),
        ("341502000", "341502", "金安区", "county"),
        ("341502000000", "341502", "金安区", "county"),
        ("341500000000", "341500", "六安市", "city"),
    ],
)
def test_division_code_of_the_city(code, expected_code, name, precision):
    assert location_from_division(code) == Location(
        expected_code, name, "", None, None, precision, "division"
    )


@pytest.mark.parametrize("code", ["34150", "3415020", "34150200100", "abcdef", "３４１５０２", ""])
def test_division_code_of_wrong_shape_is_refused(code):
    with pytest.raises(LocationError) as caught:
        location_from_division(code)

    assert caught.value.code == DIVISION_INVALID


@pytest.mark.parametrize("code", ["340104", "340422", "110101", "340104001"])
def test_division_code_outside_the_city_is_refused(code):
    with pytest.raises(LocationError) as caught:
        location_from_division(code)

    assert caught.value.code == OUTSIDE_CITY
    assert (
        str(caught.value.message) == f"行政区划代码{code}不在本市范围（六安市的代码以3415开头）。"
    )


def test_old_shouxian_code_is_refused_with_its_history():
    with pytest.raises(LocationError) as caught:
        location_from_division("341521")

    assert caught.value.code == OUTSIDE_CITY
    assert caught.value.extra == {"current": "340422"}
    assert str(caught.value.message) == (
        "行政区划代码341521是原六安市的寿县，寿县自2015年起划归淮南市（340422），不在本市范围。"
    )


def test_lu_an_prefecture_code_names_the_current_one():
    with pytest.raises(LocationError) as caught:
        location_from_division("342423")

    assert caught.value.code == DIVISION_HISTORICAL
    assert caught.value.extra == {"current": "341522"}
    assert str(caught.value.message) == (
        "行政区划代码342423（霍邱县）是1999年以前六安地区的旧代码，现行代码为341522。"
    )


def test_old_county_level_lu_an_city_was_split():
    with pytest.raises(LocationError) as caught:
        location_from_division("342401")

    assert caught.value.code == DIVISION_HISTORICAL
    assert caught.value.extra == {"current": ""}


# --- coordinates ---------------------------------------------------------------------------


@pytest.mark.parametrize("county", COUNTIES, ids=[county.code for county in COUNTIES])
def test_each_county_seat_is_in_its_county(county):
    location = location_from_point(county.seat_lat, county.seat_long)

    assert location == Location(
        county.code,
        county.name,
        "",
        county.seat_lat,
        county.seat_long,
        "point",
        "coordinates",
        approximate=True,
    )


@pytest.mark.parametrize(
    ("lat", "long", "code"),
    [
        (31.37, 116.32, "341525"),  # 霍山 south of its seat
        (32.10, 116.30, "341522"),  # 霍邱 south of its seat
        (31.48, 115.73, "341524"),  # 金寨, 天堂寨 side
    ],
)
def test_points_away_from_seats_take_the_nearest_seat(lat, long, code):
    assert location_from_point(lat, long).division_code == code


@pytest.mark.parametrize(
    ("lat", "long"),
    [
        (32.547, 117.5),  # 寿县 town lies east of the box
        (39.9042, 116.4074),  # 北京
        (0.0, 0.0),  # a phone without a fix
        (30.5, 116.3),  # 岳西, south
    ],
)
def test_points_outside_the_box_are_refused(lat, long):
    with pytest.raises(LocationError) as caught:
        location_from_point(lat, long)

    assert caught.value.code == OUTSIDE_CITY
    assert str(caught.value.message) == "坐标不在本市范围。"
    assert caught.value.extra == {"lat": lat, "long": long}


def test_a_point_outside_the_city_but_inside_its_box_is_taken_for_the_nearest_county():
    # 合肥's centre: the known limit of the approximation, which real boundaries remove
    location = location_from_point(31.820, 117.227)

    assert (location.division_code, location.approximate) == ("341523", True)


@pytest.mark.parametrize(
    ("lat", "long", "field"),
    [
        (90.5, 116.0, "lat"),
        (-91.0, 116.0, "lat"),
        (31.0, 180.5, "long"),
        (31.0, -181.0, "long"),
        (math.nan, 116.0, "lat"),
        (31.0, math.inf, "long"),
    ],
)
def test_coordinates_out_of_range_are_refused(lat, long, field):
    with pytest.raises(LocationError) as caught:
        location_from_point(lat, long)

    assert caught.value.code == COORDINATES_INVALID
    assert caught.value.extra == {"field": field}


def _square(code, west, south, east, north, **extra):
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {
        "type": "Feature",
        "properties": {"adcode": code, **extra},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


# Two made-up counties: 霍山 as a square with a hole, 金安 as two squares (a MultiPolygon).
GEOJSON = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"adcode": 341525},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[116.0, 31.0], [117.0, 31.0], [117.0, 32.0], [116.0, 32.0], [116.0, 31.0]],
                    [[116.4, 31.4], [116.6, 31.4], [116.6, 31.6], [116.4, 31.6], [116.4, 31.4]],
                ],
            },
        },
        {
            "type": "Feature",
            "properties": {"code": "341502000000"},
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[116.45, 31.45], [116.55, 31.45], [116.55, 31.55], [116.45, 31.45]]],
                    [[[120.0, 30.0], [121.0, 30.0], [121.0, 31.0], [120.0, 31.0], [120.0, 30.0]]],
                ],
            },
        },
    ],
}


@pytest.mark.parametrize(
    ("lat", "long", "code"),
    [
        (31.2, 116.2, "341525"),
        (31.5, 116.52, "341502"),  # in the hole of 霍山, inside 金安's triangle
        (30.5, 120.5, "341502"),  # the second part, far outside the city's box
    ],
)
def test_loaded_boundaries_decide_the_county(lat, long, code):
    boundaries = Boundaries.from_geojson(GEOJSON)

    location = location_from_point(lat, long, boundaries=boundaries)

    assert location == Location(
        code, location.division_name, "", lat, long, "point", "coordinates", approximate=False
    )


@pytest.mark.parametrize(("lat", "long"), [(31.42, 116.58), (32.5, 116.5), (31.5, 115.9)])
def test_point_in_no_loaded_boundary_is_outside(lat, long):
    # (31.42, 116.58): in 霍山's hole but outside 金安's triangle; the others inside the box
    boundaries = Boundaries.from_geojson(GEOJSON)

    with pytest.raises(LocationError) as caught:
        location_from_point(lat, long, boundaries=boundaries)

    assert caught.value.code == OUTSIDE_CITY


def test_boundaries_come_from_the_setting(tmp_path):
    path = tmp_path / "counties.geojson"
    path.write_text(json.dumps(GEOJSON), encoding="utf-8")

    with override_settings(HOTLINE_BOUNDARIES_GEOJSON=str(path)):
        location = location_from_point(31.2, 116.2)
    # the seat of 霍邱 is outside both made-up polygons: with the setting it is refused
    with override_settings(HOTLINE_BOUNDARIES_GEOJSON=str(path)), pytest.raises(LocationError):
        location_from_point(32.355, 116.273)

    assert (location.division_code, location.approximate) == ("341525", False)
    assert location_from_point(32.355, 116.273).division_code == "341522"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "Expecting property name"),
        (json.dumps({"type": "FeatureCollection", "features": []}), "no features"),
        (
            json.dumps({"features": [_square("340104", 116, 31, 117, 32)]}),
            "no adcode/code of a 六安 county: '340104'",
        ),
        (
            json.dumps(
                {
                    "features": [
                        {
                            "properties": {"adcode": "341502"},
                            "geometry": {"type": "Point", "coordinates": [116, 31]},
                        }
                    ]
                }
            ),
            "is not a Polygon or MultiPolygon",
        ),
    ],
)
def test_bad_boundary_files_are_a_configuration_error(tmp_path, content, message):
    path = tmp_path / "bad.geojson"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ImproperlyConfigured, match=message):
        boundaries_load(str(path))


def test_missing_boundary_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="No such file"):
        boundaries_load(str(tmp_path / "missing.geojson"))


# --- distance ------------------------------------------------------------------------------


def test_distance_known_values():
    quarter = math.pi * EARTH_RADIUS_M / 2

    assert distance_m(31.75, 116.5, 31.75, 116.5) == 0.0
    assert distance_m(0, 0, 0, 90) == pytest.approx(quarter, abs=1e-6)
    assert distance_m(0, 0, 90, 0) == pytest.approx(quarter, abs=1e-6)
    assert distance_m(0, 0, 0, 180) == pytest.approx(2 * quarter, abs=1e-6)
    assert distance_m(90, 0, -90, 0) == pytest.approx(2 * quarter, abs=1e-6)
    # one degree of latitude and one of longitude at 60°N (half as long)
    assert distance_m(31.0, 116.0, 32.0, 116.0) == pytest.approx(111_195.08, abs=0.01)
    assert distance_m(60.0, 10.0, 60.0, 11.0) == pytest.approx(55_596.10, abs=1)
    # antipodes off the equator, where the haversine rounds to just above 1
    assert distance_m(-74.6, 10.0, 74.6, -170.0) == pytest.approx(2 * quarter, abs=1e-6)
    # 1e-5 degree of latitude is about 1.1 m: fine enough for "within 200 m"
    assert distance_m(31.75, 116.5, 31.75001, 116.5) == pytest.approx(1.112, abs=0.001)


def test_distance_agrees_with_the_spherical_law_of_cosines():
    # 金安 to 霍山 seats: an independent formula, well conditioned at 40 km
    a, b = (31.752, 116.534), (31.413, 116.347)
    phi1, phi2 = math.radians(a[0]), math.radians(b[0])
    cosines = math.sin(phi1) * math.sin(phi2) + math.cos(phi1) * math.cos(phi2) * math.cos(
        math.radians(b[1] - a[1])
    )

    assert distance_m(*a, *b) == pytest.approx(EARTH_RADIUS_M * math.acos(cosines), abs=0.01)


latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False)
points = st.tuples(latitudes, longitudes)


@given(points, points)
def test_distance_is_symmetric_and_bounded(a, b):
    there = distance_m(*a, *b)

    assert there == pytest.approx(distance_m(*b, *a), abs=1e-6)
    assert 0.0 <= there <= math.pi * EARTH_RADIUS_M + 1e-6


@given(points, points, points)
def test_distance_obeys_the_triangle_inequality(a, b, c):
    # near antipodes asin loses precision: a metre of slack is far below any use here
    assert distance_m(*a, *c) <= distance_m(*a, *b) + distance_m(*b, *c) + 1.0


# --- all together --------------------------------------------------------------------------


def test_resolve_point_keeps_the_address_text():
    location = location_resolve(lat=32.355, long=116.273, address="  路灯不亮 ")

    assert location == Location(
        "341522", "霍邱县", "路灯不亮", 32.355, 116.273, "point", "coordinates", approximate=True
    )


def test_resolve_an_address_county_replaces_an_approximate_point_county():
    # the point is nearer 金安's seat, but the caller says 裕安区西市街道
    location = location_resolve(lat=31.752, long=116.534, address="裕安区西市街道")

    assert location == Location(
        "341503", "裕安区西市街道", "裕安区西市街道", 31.752, 116.534, "point", "coordinates"
    )


def test_resolve_a_real_boundary_beats_the_address():
    boundaries = Boundaries.from_geojson(GEOJSON)

    location = location_resolve(
        lat=31.2, long=116.2, address="裕安区西市街道", boundaries=boundaries
    )

    assert (location.division_code, location.address) == ("341525", "裕安区西市街道")


def test_resolve_point_with_an_address_outside_the_city_keeps_the_point():
    location = location_resolve(lat=31.413, long=116.347, address="合肥市蜀山区")

    assert (location.division_code, location.address) == ("341525", "合肥市蜀山区")


def test_resolve_address_beats_division():
    location = location_resolve(address="霍山县衡山镇", division_code="341502")

    assert location == Location(
        "341525", "霍山县衡山镇", "霍山县衡山镇", None, None, "town", "address"
    )


def test_resolve_division_refines_an_address_that_names_only_the_city():
    location = location_resolve(address="六安市人民路12号", division_code="341502001")

    assert location == Location(
        "341502001", "金安区", "六安市人民路12号", None, None, "town", "division"
    )


def test_resolve_unknown_address_alone_is_somewhere_in_the_city():
    location = location_resolve(address="人民路12号")

    assert location == Location("341500", "六安市", "人民路12号", None, None, "city", "address")


def test_resolve_division_alone():
    assert location_resolve(division_code="341504") == Location(
        "341504", "叶集区", "", None, None, "county", "division"
    )


def test_resolve_address_outside_the_city_is_refused():
    with pytest.raises(LocationError) as caught:
        location_resolve(address="合肥市蜀山区", division_code="341502")

    assert caught.value.code == OUTSIDE_CITY


@pytest.mark.parametrize(("lat", "long", "field"), [(31.7, None, "long"), (None, 116.5, "lat")])
def test_resolve_needs_both_coordinates(lat, long, field):
    with pytest.raises(LocationError) as caught:
        location_resolve(lat=lat, long=long, address="金安区")

    assert caught.value.code == COORDINATES_INVALID
    assert caught.value.extra == {"field": field}
    assert str(caught.value.message) == "纬度和经度须同时提供。"


def test_resolve_out_of_range_coordinates_are_refused():
    with pytest.raises(LocationError) as caught:
        location_resolve(lat=131.7, long=116.5)

    assert caught.value.code == COORDINATES_INVALID


@pytest.mark.parametrize("blank", [{}, {"address": "  ", "division_code": " "}])
def test_resolve_needs_something(blank):
    with pytest.raises(LocationError) as caught:
        location_resolve(**blank)

    assert caught.value.code == MISSING
    assert str(caught.value.message) == "请提供位置：坐标、地址或行政区划代码。"


def test_county_code_property():
    assert location_from_division("341502001").county_code == "341502"
    assert location_from_division("341500").county_code is None
