"""The city trains its classifier on its own orders: export the confirmed categories, train,
register and activate the model, and new orders are classified and routed by it; a
dispatcher's correction becomes the next training label."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from yiwang.core.models import AuditEntry
from yiwang.hotline import services
from yiwang.hotline.models import ClassifierModel, Event, WorkOrder
from yiwang.hotline.tests.conftest import World

LIGHTS = [
    "人民路路灯不亮，晚上很黑",
    "小区门口路灯坏了好几天",
    "解放路的路灯一直没亮",
    "公园旁边路灯损坏请维修",
    "梅山路路灯晚上不亮",
    "河边步道路灯全灭了",
]
NOISE = [
    "楼下广场舞噪音太大影响休息",
    "工地夜间施工噪声扰民",
    "酒吧音乐声太吵到半夜",
    "装修噪音从早到晚不停",
    "KTV噪声扰民严重",
    "夜市喇叭声音太大",
]


def _confirmed_orders(world: World) -> None:
    for i, text in enumerate(LIGHTS + NOISE):
        services.work_order_register(
            actor=world.dispatcher,
            channel=WorkOrder.Channel.PHONE,
            title=text,
            content=f"{text}，请尽快处理（第{i}号）",
            caller_phone=f"1390000{i:04d}",
            division_code="341502",
            category=world.streetlight if text in LIGHTS else world.noise,
            auto_dispatch=False,
        )
    for order in WorkOrder.objects.filter(status="registered"):
        services.work_order_dispatch(order=order, actor=world.dispatcher)


def test_export_train_register_activate_then_new_orders_are_routed(
    world: World, tmp_path: Path, settings: object
) -> None:
    settings.YIWANG_HOTLINE_DUPLICATE_DAYS = 0  # type: ignore[attr-defined]
    _confirmed_orders(world)
    data, model = tmp_path / "orders.csv", tmp_path / "model.bin"

    call_command("hotline", "export-training", "--out", str(data), stdout=StringIO())
    rows = list(csv.DictReader(data.read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 12
    assert {r["分类"] for r in rows} == {"cxjs-szss-ld", "hjbh-wr-zs"}

    out = StringIO()
    call_command(
        "hotline", "train-classifier", "--csv", str(data), "--text-cols", "标题,内容",
        "--label-col", "分类", "--out", str(model), "--test-size", "0.34", stdout=out,
    )  # fmt: skip
    assert model.exists()
    call_command(
        "hotline", "register-model", "--name", "2026-11", "--model", str(model),
        "--threshold", "0.5", "--activate", stdout=StringIO(),
    )  # fmt: skip
    row = ClassifierModel.objects.get(active=True)
    assert sorted(row.labels) == ["cxjs-szss-ld", "hjbh-wr-zs"]
    assert AuditEntry.objects.filter(action="hotline.classifier_activate").count() == 1

    intake = services.work_order_register(
        actor=world.dispatcher,
        channel=WorkOrder.Channel.PHONE,
        content="学校门口的路灯不亮了，晚上学生回家很危险",
        caller_phone="13800000009",
        division_code="341502",
    )
    order = intake.order
    order.refresh_from_db()
    assert order.suggested_category == world.streetlight
    assert order.suggested_confidence is not None
    assert order.suggested_confidence >= 0.5
    assert order.category == world.streetlight
    assert intake.dispatched is True
    assert order.lead_unit == world.cgj


def test_a_dispatchers_correction_is_the_next_label(
    world: World, tmp_path: Path, settings: object
) -> None:
    settings.YIWANG_HOTLINE_DUPLICATE_DAYS = 0  # type: ignore[attr-defined]
    _confirmed_orders(world)
    data, model = tmp_path / "orders.csv", tmp_path / "model.bin"
    call_command("hotline", "export-training", "--out", str(data), stdout=StringIO())
    call_command(
        "hotline", "train-classifier", "--csv", str(data), "--text-cols", "标题,内容",
        "--label-col", "分类", "--out", str(model), "--test-size", "0.34", stdout=StringIO(),
    )  # fmt: skip
    call_command(
        "hotline", "register-model", "--name", "m", "--model", str(model),
        "--activate", stdout=StringIO(),
    )  # fmt: skip
    # A threshold above any confidence: the model only suggests, a dispatcher decides.
    ClassifierModel.objects.update(auto_dispatch_threshold=1.5)
    order = services.work_order_register(
        actor=world.dispatcher,
        channel=WorkOrder.Channel.PHONE,
        content="路灯旁边的变压器嗡嗡响，噪音很大晚上睡不着",
        caller_phone="13800000010",
        division_code="341502",
    ).order
    assert order.status == WorkOrder.Status.REGISTERED
    assert order.suggested_category is not None
    wrong = order.suggested_category
    right = world.noise if wrong == world.streetlight else world.streetlight
    services.work_order_dispatch(order=order, actor=world.dispatcher, category=right)

    assert Event.objects.filter(order=order, kind="category_corrected").count() == 1
    call_command("hotline", "export-training", "--out", str(data), stdout=StringIO())
    exported = csv.DictReader(data.read_text(encoding="utf-8-sig").splitlines())
    labels = {r["内容"]: r["分类"] for r in exported}
    assert labels[order.content] == right.code


def test_register_refuses_a_file_that_is_not_a_model(world: World, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"not a model")
    with pytest.raises(CommandError):
        call_command(
            "hotline", "register-model", "--name", "x", "--model", str(bogus), stdout=StringIO()
        )
    assert ClassifierModel.objects.count() == 0


def test_use_model_switches_and_names_an_unknown_model(world: World) -> None:
    with pytest.raises(CommandError, match="没有名为"):
        call_command("hotline", "use-model", "--name", "nope", stdout=StringIO())
