"""Seed the configurable lists: 事项类型 (ItemType) and 主题分类 (Theme).

Both are configuration (standards.md §1.4: type codes differ by province); administrators
change them in the admin. A deployment may replace the seed with the settings
YIWANG_CATALOG_ITEM_TYPES = [(code, name, is_power), …] and
YIWANG_CATALOG_THEMES = {"natural": [names…], "legal": [names…]} before its first migrate.
Existing rows are never overwritten (get_or_create), so re-running is harmless.
"""

from django.conf import settings
from django.db import migrations

# Only attested code/name pairs (standards.md §1.4, the province whose front end maps
# 01 许可, 03 处罚, 04 强制, 05 征收, 06 给付, 07 裁决, 08 确认, 09 奖励, 10 其他, 14 公共服务).
# 行政检查's code is not attested: the importer adds it when a record needs it.
ITEM_TYPES = [
    ("01", "行政许可", True),
    ("03", "行政处罚", True),
    ("04", "行政强制", True),
    ("05", "行政征收", True),
    ("06", "行政给付", True),
    ("07", "行政裁决", True),
    ("08", "行政确认", True),
    ("09", "行政奖励", True),
    ("10", "其他行政权力", True),
    ("14", "公共服务", False),
]

# National-style 主题分类 (as on the national and provincial portals, life-event order).
THEMES = {
    "natural": [
        "生育收养",
        "户籍办理",
        "民族宗教",
        "教育科研",
        "入伍服役",
        "就业创业",
        "职业资格",
        "婚姻登记",
        "优待抚恤",
        "住房保障",
        "社会保障",
        "医疗卫生",
        "证件办理",
        "交通出行",
        "出境入境",
        "旅游观光",
        "消费维权",
        "公共安全",
        "司法公证",
        "知识产权",
        "文化体育",
        "公用事业",
        "行政缴费",
        "规划建设",
        "抵押质押",
        "退休养老",
        "死亡殡葬",
        "其他",
    ],
    "legal": [
        "设立变更",
        "准营准办",
        "资质认证",
        "年检年审",
        "税收财务",
        "人力资源",
        "社会保障",
        "投资审批",
        "工程建设",
        "融资信贷",
        "抵押质押",
        "商务贸易",
        "招标拍卖",
        "海关口岸",
        "涉外服务",
        "农林牧渔",
        "交通运输",
        "环保绿化",
        "水务气象",
        "医疗卫生",
        "科技创新",
        "文体教育",
        "知识产权",
        "质量技术",
        "安全生产",
        "公安消防",
        "司法公证",
        "公用事业",
        "档案文物",
        "注销退出",
        "其他",
    ],
}


def seed(apps, schema_editor):
    ItemType = apps.get_model("catalog", "ItemType")
    Theme = apps.get_model("catalog", "Theme")
    types = getattr(settings, "YIWANG_CATALOG_ITEM_TYPES", ITEM_TYPES)
    for order, (code, name, is_power) in enumerate(types, start=1):
        if ItemType.objects.filter(name=name).exists():
            continue
        ItemType.objects.get_or_create(
            code=code, defaults={"name": name, "is_power": is_power, "sort_order": order}
        )
    themes = getattr(settings, "YIWANG_CATALOG_THEMES", THEMES)
    for audience, names in themes.items():
        for order, name in enumerate(names, start=1):
            Theme.objects.get_or_create(
                audience=audience, name=name, defaults={"sort_order": order}
            )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
