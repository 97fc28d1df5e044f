"""The demo owners' stores: valid identifiers, the demo people and scenarios' rows,
determinism, the CSV drop, the PostgreSQL COPY variant and the command."""

from __future__ import annotations

import csv
import hashlib
import io
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from yiwang.accounts.demo import CITIZENS, demo_uscc, resident_id_number
from yiwang.core.identifiers import resident_id_parse, uscc_validate
from yiwang.exchange import owners

POPULATION = 3_000


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("owners")
    owners.owners_generate(out, population=POPULATION, seed=7)
    return out


def rows(out: Path, stem: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(owners.store_path(stem, out))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def digest(out: Path) -> str:
    sha = hashlib.sha256()
    for table, (stem, *_rest) in sorted(owners.TABLES.items()):
        for row in rows(out, stem, f"SELECT * FROM {table} ORDER BY rowid"):  # noqa: S608
            sha.update(repr(row).encode())
    return sha.hexdigest()


def test_every_store_is_written_with_its_tables(stores: Path) -> None:
    assert sorted(p.name for p in stores.iterdir()) == [
        "gaj.sqlite3",
        "gjjzx.sqlite3",
        "gjjzx_monthly.csv",
        "rsj.sqlite3",
        "scjgj.sqlite3",
        "swj.sqlite3",
        "zrzyghj.sqlite3",
    ]
    assert owners.owners_present(stores) is True
    demo = len(owners.demo_people())
    assert rows(stores, "gaj", "SELECT count(*) FROM population") == [(POPULATION + demo,)]


def test_generated_id_numbers_and_usccs_pass_the_check_algorithms(stores: Path) -> None:
    people = rows(stores, "gaj", "SELECT id_number, sex, birth_date, region_code FROM population")
    counties = {code for code, *_rest in owners.DIVISIONS}
    for id_number, sex, birth_date, region in people:
        parsed = resident_id_parse(id_number)
        assert parsed.number == id_number
        assert parsed.birth_date.isoformat() == birth_date
        assert parsed.gender == ("male" if sex == "男" else "female")
        assert region in counties
        assert id_number[:6] == region
    assert len({p[0] for p in people}) == len(people)
    enterprises = rows(stores, "scjgj", "SELECT uscc FROM enterprises")
    assert len(enterprises) > 20
    for (uscc,) in enterprises:
        assert uscc_validate(uscc) == uscc


def test_registers_refer_to_people_of_the_population(stores: Path) -> None:
    population = {r[0] for r in rows(stores, "gaj", "SELECT id_number FROM population")}
    linked = [
        ("scjgj", "SELECT legal_rep_id_number FROM enterprises"),
        ("zrzyghj", "SELECT id_number FROM real_estate"),
        ("rsj", "SELECT id_number FROM social_insurance"),
        ("gjjzx", "SELECT id_number FROM provident_fund"),
        ("swj", "SELECT id_number FROM tax_paid"),
        ("gaj", "SELECT id_number FROM vehicles"),
    ]
    for stem, sql in linked:
        found = {r[0] for r in rows(stores, stem, sql)}
        assert found, stem
        assert found <= population, stem
    units = rows(stores, "zrzyghj", "SELECT unit_no FROM real_estate")
    assert {len(u) for (u,) in units} == {28}
    assert all(u[12:14] == "GB" and u[19] == "F" for (u,) in units)


def test_the_demo_people_and_enterprise_are_in_the_stores(stores: Path) -> None:
    for citizen in CITIZENS:
        number = resident_id_number(citizen.region, citizen.birth, citizen.sequence)
        assert rows(
            stores, "gaj", "SELECT name, phone FROM population WHERE id_number = ?", number
        ) == [(citizen.real_name, citizen.phone)]
    legal = resident_id_number(CITIZENS[2].region, CITIZENS[2].birth, CITIZENS[2].sequence)
    assert rows(
        stores,
        "scjgj",
        "SELECT name, legal_rep_id_number, status FROM enterprises WHERE uscc = ?",
        demo_uscc(),
    ) == [("六安市示范科技有限公司（演示）", legal, "存续")]


def test_the_second_hand_house_parties_are_there(stores: Path) -> None:
    assert owners.SELLER_ID_NUMBER == "341502198001010012"
    assert resident_id_parse(owners.BUYER_ID_NUMBER).number == owners.BUYER_ID_NUMBER
    assert rows(
        stores,
        "zrzyghj",
        "SELECT owner_name, certificate_no, address, seized, mortgaged FROM real_estate"
        " WHERE id_number = ?",
        owners.SELLER_ID_NUMBER,
    ) == [("周卖房", "皖(2020)六安市不动产权第0000001号", "六安市金安区佛子岭路1号", 0, 0)]
    assert rows(
        stores, "gaj", "SELECT name FROM population WHERE id_number = ?", owners.BUYER_ID_NUMBER
    ) == [("孙买房",)]
    assert rows(
        stores,
        "zrzyghj",
        "SELECT seized FROM real_estate WHERE unit_no = ?",
        owners.SEIZED_UNIT_NO,
    ) == [(1,)]
    citizen = resident_id_number(CITIZENS[0].region, CITIZENS[0].birth, CITIZENS[0].sequence)
    assert rows(
        stores, "swj", "SELECT unit_no, tax FROM tax_paid WHERE id_number = ?", citizen
    ) == [(owners.CITIZEN_UNIT_NO, "契税")]
    assert rows(
        stores,
        "gaj",
        "SELECT plate, violation_handled FROM vehicle_records WHERE id_number = ?",
        citizen,
    ) == [("皖ND0001", "未处理")]


def test_divisions_are_the_seven_counties_and_the_city(stores: Path) -> None:
    found = rows(stores, "zrzyghj", "SELECT code, name, parent_code FROM divisions ORDER BY code")
    assert found == [
        ("341500", "六安市", "340000"),
        ("341502", "金安区", "341500"),
        ("341503", "裕安区", "341500"),
        ("341504", "叶集区", "341500"),
        ("341522", "霍邱县", "341500"),
        ("341523", "舒城县", "341500"),
        ("341524", "金寨县", "341500"),
        ("341525", "霍山县", "341500"),
    ]


def test_the_provident_fund_drop_holds_the_store(stores: Path) -> None:
    with (stores / owners.PROVIDENT_DROP).open(encoding="utf-8", newline="") as handle:
        drop = list(csv.DictReader(handle))
    store = rows(
        stores, "gjjzx", "SELECT id_number, balance_yuan FROM provident_fund ORDER BY rowid"
    )
    assert [(r["id_number"], float(r["balance_yuan"])) for r in drop] == store


def test_same_seed_same_rows_other_seed_other_rows(stores: Path, tmp_path: Path) -> None:
    again = owners.owners_generate(tmp_path / "again", population=POPULATION, seed=7)
    other = owners.owners_generate(tmp_path / "other", population=POPULATION, seed=8)
    assert digest(again.out_dir) == digest(stores)
    assert digest(other.out_dir) != digest(stores)
    assert not list((tmp_path / "again").glob("*.tmp-*"))


def test_command_prints_counts_and_time(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("generate_owners", "--population", "200", "--out", str(tmp_path), stdout=out)
    text = out.getvalue()
    assert f"population{206:>20,}" in text
    assert f"written to {tmp_path}" in text
    assert (tmp_path / "gaj.sqlite3").exists()


@pytest.mark.django_db
def test_postgres_copy_variant_into_a_throwaway_schema() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the COPY variant needs PostgreSQL (DATABASE_URL)")
    s = connection.settings_dict
    url = (
        f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"
    )
    schema = "owner_test_xdemo"
    try:
        first = owners.owners_generate_postgres(url, schema=schema, population=2_000, seed=7)
        demo = len(owners.demo_people())
        assert first.counts == {"population": 2_000 + demo}
        with psycopg.connect(url) as conn:
            seller = conn.execute(
                f"SELECT name FROM {schema}.population WHERE id_number = %s",  # noqa: S608
                (owners.SELLER_ID_NUMBER,),
            ).fetchall()
            pg_rows = conn.execute(
                f"SELECT id_number, name, birth_date FROM {schema}.population"  # noqa: S608
                " ORDER BY id_number LIMIT 50"
            ).fetchall()
            indexes = conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = %s", (schema,)
            ).fetchall()
        assert seller == [("周卖房",)]
        assert all(resident_id_parse(r[0]).number == r[0] for r in pg_rows)
        assert len(indexes) == 1
        assert "UNIQUE" in indexes[0][0]
        assert "(id_number)" in indexes[0][0]
        # the adapter's config reaches the schema with a plain table name
        config = owners.postgres_adapter_config(url, schema)
        assert config["table"] == "population"
        with psycopg.connect(config["url"]) as conn:
            found = conn.execute(
                'SELECT name FROM "population" WHERE "id_number" = %s', (owners.BUYER_ID_NUMBER,)
            ).fetchall()
        assert found == [("孙买房",)]
        # rebuilt from scratch, not appended
        again = owners.owners_generate_postgres(url, schema=schema, population=2_000, seed=7)
        assert again.counts == first.counts
        with psycopg.connect(url) as conn:
            total = conn.execute(f"SELECT count(*) FROM {schema}.population").fetchone()  # noqa: S608
        assert total == (2_000 + demo,)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
