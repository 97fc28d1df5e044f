"""Demo configuration of the 12345 hotline for 六安市: a three-level category tree written
for the demo (shaped like real city trees, e.g. the 15/103/390 tree of the Teddy Cup data,
but our own and much smaller), the dispatch catalogue onto the demo departments, time
limits, the mayor's mailbox and a department mailbox. Idempotent."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from yiwang.accounts.models import Department
from yiwang.hotline.models import Category, DispatchRule, Mailbox, TimeLimit, TimeUnit, Urgency

# (code, name, keywords, lead unit code, assisting unit codes) per leaf, under (level 1, level 2).
TREE: list[
    tuple[str, str, list[tuple[str, str, list[tuple[str, str, str, str, tuple[str, ...]]]]]]
] = [
    (
        "cxjs",
        "城乡建设",
        [
            (
                "cxjs-szss",
                "市政设施",
                [
                    ("cxjs-szss-ld", "路灯故障", "路灯,不亮,灯坏,照明", "la-cgj", ()),
                    ("cxjs-szss-dl", "道路破损", "道路,坑洼,破损,塌陷", "la-cgj", ("la-zjj",)),
                    ("cxjs-szss-jg", "窨井盖缺失", "井盖,窨井,下水道", "la-cgj", ()),
                    ("cxjs-szss-ps", "排水不畅", "积水,排水,下水道堵", "la-cgj", ("la-zjj",)),
                ],
            ),
            (
                "cxjs-rqhj",
                "市容环境",
                [
                    ("cxjs-rqhj-lj", "垃圾清运", "垃圾,清运,垃圾桶", "la-cgj", ()),
                    ("cxjs-rqhj-zd", "占道经营", "占道,摆摊,流动摊贩", "la-cgj", ()),
                    ("cxjs-rqhj-wj", "违法建设", "违建,搭建,私搭乱建", "la-cgj", ("la-zrzyghj",)),
                ],
            ),
            (
                "cxjs-zf",
                "住房与物业",
                [
                    ("cxjs-zf-wy", "物业服务", "物业,小区,电梯", "la-zjj", ()),
                    ("cxjs-zf-gs", "供水问题", "停水,水压,自来水", "la-zjj", ()),
                    ("cxjs-zf-rq", "燃气问题", "燃气,天然气,煤气", "la-zjj", ()),
                ],
            ),
        ],
    ),
    (
        "jtys",
        "交通运输",
        [
            (
                "jtys-gj",
                "公共交通",
                [
                    ("jtys-gj-gjc", "公交线路与站点", "公交,站台,线路", "la-jtysj", ()),
                    ("jtys-gj-czc", "出租车服务", "出租车,网约车,拒载", "la-jtysj", ()),
                ],
            ),
            (
                "jtys-dl",
                "道路交通",
                [
                    ("jtys-dl-xh", "信号灯与标志", "红绿灯,信号灯,标线", "la-gaj", ("la-jtysj",)),
                    ("jtys-dl-tc", "停车管理", "停车,乱停,车位", "la-gaj", ("la-cgj",)),
                ],
            ),
        ],
    ),
    (
        "hjbh",
        "环境保护",
        [
            (
                "hjbh-wr",
                "污染防治",
                [
                    ("hjbh-wr-zs", "噪声扰民", "噪音,噪声,施工,广场舞", "la-sthjj", ("la-cgj",)),
                    ("hjbh-wr-dq", "大气污染", "油烟,烧烤,扬尘,臭味", "la-sthjj", ()),
                    ("hjbh-wr-sz", "水污染", "河道,排污,污水", "la-sthjj", ()),
                ],
            ),
        ],
    ),
    (
        "ldsb",
        "劳动和社会保障",
        [
            (
                "ldsb-gz",
                "劳动关系",
                [
                    ("ldsb-gz-qx", "拖欠工资", "工资,欠薪,讨薪", "la-rsj", ()),
                    ("ldsb-gz-ht", "劳动合同", "合同,辞退,加班", "la-rsj", ()),
                ],
            ),
            (
                "ldsb-sb",
                "社会保险",
                [
                    ("ldsb-sb-yl", "养老保险", "养老金,社保,退休", "la-rsj", ()),
                    ("ldsb-sb-yb", "医疗保险", "医保,报销,异地就医", "la-ybj", ()),
                ],
            ),
        ],
    ),
    (
        "jywt",
        "教育文体",
        [
            (
                "jywt-jy",
                "教育",
                [
                    ("jywt-jy-rx", "入学招生", "入学,学区,招生", "la-jtj", ()),
                    ("jywt-jy-sf", "学校收费", "收费,补课,培训", "la-jtj", ("la-scjgj",)),
                ],
            ),
        ],
    ),
    (
        "wsjk",
        "卫生健康",
        [
            (
                "wsjk-yl",
                "医疗服务",
                [
                    ("wsjk-yl-fw", "医院服务", "医院,挂号,医生", "la-wjw", ()),
                    ("wsjk-yl-yp", "药品价格", "药品,药价", "la-scjgj", ("la-ybj",)),
                ],
            ),
        ],
    ),
    (
        "smly",
        "商贸旅游",
        [
            (
                "smly-xf",
                "消费维权",
                [
                    ("smly-xf-sp", "食品安全", "食品,过期,变质", "la-scjgj", ()),
                    ("smly-xf-wq", "消费纠纷", "退款,商家,虚假宣传", "la-scjgj", ()),
                ],
            ),
            (
                "smly-ly",
                "旅游",
                [("smly-ly-jq", "景区服务", "景区,门票,导游", "la-wlj", ())],
            ),
        ],
    ),
    (
        "mzsw",
        "民政",
        [
            (
                "mzsw-sh",
                "社会救助与养老",
                [
                    ("mzsw-sh-db", "低保救助", "低保,救助,困难", "la-mzj", ()),
                    ("mzsw-sh-yl", "养老服务", "养老院,老人,助餐", "la-mzj", ()),
                ],
            ),
        ],
    ),
]

# Streetlights outside the city proper are the county's; an example of area routing.
AREA_RULES: list[tuple[str, str, str]] = [
    ("cxjs-szss-ld", "341522", "la-hqx"),
    ("cxjs-szss-ld", "341524", "la-jzx"),
]

# (category code or None, urgency, sign, handle, return, extension)
LIMITS: list[tuple[str | None, str, tuple[int, str], tuple[int, str], tuple[int, str]]] = [
    (
        None,
        Urgency.NORMAL,
        (1, TimeUnit.WORKING_DAYS),
        (5, TimeUnit.WORKING_DAYS),
        (1, TimeUnit.WORKING_DAYS),
    ),
    (None, Urgency.URGENT, (30, TimeUnit.MINUTES), (24, TimeUnit.HOURS), (2, TimeUnit.HOURS)),
    # A dark streetlight is fixed within 24 hours (the seed's example).
    (
        "cxjs-szss-ld",
        Urgency.NORMAL,
        (2, TimeUnit.WORKING_HOURS),
        (24, TimeUnit.HOURS),
        (2, TimeUnit.WORKING_HOURS),
    ),
    # Unpaid wages: complex, 10 working days (cf. Shandong's extension ceiling).
    (
        "ldsb-gz-qx",
        Urgency.NORMAL,
        (1, TimeUnit.WORKING_DAYS),
        (10, TimeUnit.WORKING_DAYS),
        (2, TimeUnit.WORKING_DAYS),
    ),
]


@transaction.atomic
def hotline_demo_load() -> dict[str, Any]:
    departments = {d.code: d for d in Department.objects.all()}
    order = 0
    for code1, name1, children in TREE:
        order += 1
        top, _ = Category.objects.get_or_create(
            code=code1, defaults={"name": name1, "level": 1, "sort_order": order}
        )
        for code2, name2, leaves in children:
            order += 1
            mid, _ = Category.objects.get_or_create(
                code=code2,
                defaults={"name": name2, "level": 2, "parent": top, "sort_order": order},
            )
            for code3, name3, keywords, lead, assisting in leaves:
                order += 1
                leaf, _ = Category.objects.get_or_create(
                    code=code3,
                    defaults={
                        "name": name3,
                        "level": 3,
                        "parent": mid,
                        "keywords": keywords,
                        "description": f"{name1}／{name2}／{name3}",
                        "sort_order": order,
                    },
                )
                rule, created = DispatchRule.objects.get_or_create(
                    category=leaf,
                    division_prefix="",
                    defaults={"lead_unit": departments[lead], "basis": "演示派单目录"},
                )
                if created:
                    rule.assisting_units.set([departments[c] for c in assisting])
    for code, prefix, lead in AREA_RULES:
        DispatchRule.objects.get_or_create(
            category=Category.objects.get(code=code),
            division_prefix=prefix,
            defaults={"lead_unit": departments[lead], "basis": "属地管理（演示）"},
        )
    for limit_code, urgency, sign, handle, ret in LIMITS:
        TimeLimit.objects.get_or_create(
            category=Category.objects.get(code=limit_code) if limit_code else None,
            urgency=urgency,
            defaults={
                "sign_amount": sign[0],
                "sign_unit": sign[1],
                "handle_amount": handle[0],
                "handle_unit": handle[1],
                "return_amount": ret[0],
                "return_unit": ret[1],
            },
        )
    Mailbox.objects.get_or_create(
        code="mayor", defaults={"name": "市长信箱", "kind": Mailbox.Kind.MAYOR}
    )
    Mailbox.objects.get_or_create(
        code="la-cgj",
        defaults={
            "name": "城管局局长信箱",
            "kind": Mailbox.Kind.DEPARTMENT,
            "department": departments["la-cgj"],
        },
    )
    return {
        "categories": Category.objects.count(),
        "dispatch_rules": DispatchRule.objects.count(),
    }
