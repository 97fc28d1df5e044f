"""Forms of the citizen pages of the 12345 hotline: shape only (types, lengths, how many
photos). The rules (what a request needs, which photos are images, the satisfaction rules)
are in ``services``; their problems come back onto the field they are about through
``place_problems``."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from yiwang.accounts.forms import DomainErrorForm
from yiwang.core.errors import DomainError
from yiwang.hotline import errors
from yiwang.hotline.models import WorkOrder
from yiwang.hotline.selectors import category_leaves
from yiwang.hotline.services import CONTENT_MAX, MAX_PHOTO_BYTES, MAX_PHOTOS, Photo

# Where each ``problems[].field`` of a service's ValidationError is shown; others go on top.
FIELD_FOR_PROBLEM = {
    "kind": "kind",
    "title": "title",
    "content": "content",
    "location": "address",
    "category": "category",
    "photos": "photos",
}

# The five national levels of 好差评 (GB/T 39735), best first.
SATISFACTION_CHOICES = [
    (5, _("非常满意")),
    (4, _("满意")),
    (3, _("基本满意")),
    (2, _("不满意")),
    (1, _("非常不满意")),
]
SATISFACTION_HINTS = {
    5: _("问题解决了，服务很好"),
    4: _("问题解决了"),
    3: _("基本解决，还有不便"),
    2: _("没有解决，需要改进（请写明原因）"),
    1: _("答复敷衍或没人处理（请写明原因）"),
}

CHANNELS = (WorkOrder.Channel.WEB, WorkOrder.Channel.MOBILE)


def new_token() -> str:
    """The idempotency key a form carries: a second submit of the same form finds the order
    that the first one made instead of making another."""
    return uuid.uuid4().hex


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to ``MAX_PHOTOS`` files from one ``<input type=file multiple>``; whether each is a
    JPEG, PNG or WebP image is the service's check (by content, not by name)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[Any]]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("照片最多 6 张。"), code="too_many")
        for upload in files:
            if upload.size and upload.size > MAX_PHOTO_BYTES:
                raise forms.ValidationError(
                    _("照片“%(name)s”超过 10MB。") % {"name": upload.name}, code="too_big"
                )
        return files


def photos_of(files: list[UploadedFile[Any]]) -> list[Photo]:
    return [Photo(name=upload.name or "photo", content=upload.read()) for upload in files]


def _category_choices() -> list[Any]:
    """The leaves of the category tree grouped under their parent's name."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for leaf in category_leaves().select_related("parent").order_by("parent__sort_order", "code"):
        group = leaf.parent.name if leaf.parent else ""
        groups.setdefault(group, []).append((leaf.code, leaf.name))
    return [("", _("不确定，由系统分派")), *groups.items()]


def _kind_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("诉求类型"),
        choices=WorkOrder.Kind.choices,
        initial=WorkOrder.Kind.COMPLAINT,
        widget=forms.RadioSelect(attrs={"class": "kind-choices"}),
        error_messages={"required": _("请选择诉求类型。")},
    )


class PortalForm(DomainErrorForm):
    """A form that carries its idempotency token and places a service's problems."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def place_problems(self, error: DomainError) -> None:
        problems = error.extra.get("problems") or []
        if not problems:
            self.add_domain_error(error)
            return
        for problem in problems:
            self.add_error(FIELD_FOR_PROBLEM.get(problem.get("field", "")), problem["message"])


class OrderForm(PortalForm):
    """我要反映: what, where, optional category and photos."""

    kind = _kind_field()
    title = forms.CharField(
        label=_("标题（选填）"),
        required=False,
        max_length=100,
        help_text=_("不填时用诉求内容的开头。"),
    )
    content = forms.CharField(
        label=_("诉求内容"),
        max_length=CONTENT_MAX,
        help_text=_("请写明什么事、在哪里、从什么时候开始、希望怎样解决。最多 4000 字。"),
        widget=forms.Textarea(attrs={"rows": 7, "maxlength": CONTENT_MAX}),
        error_messages={"required": _("请填写诉求内容。")},
    )
    address = forms.CharField(
        label=_("地点"),
        required=False,
        max_length=200,
        help_text=_("例如：金安区人民路与解放路交叉口。"),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    long = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    category = forms.ChoiceField(
        label=_("问题分类（选填）"),
        required=False,
        choices=(),
        help_text=_("不清楚可以不选，系统会自动分给负责的部门。"),
    )
    photos = PhotosField(
        label=_("照片（选填）"),
        required=False,
        help_text=_("最多 6 张，JPEG、PNG 或 WebP，每张不超过 10MB。"),
        widget=MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    confidential = forms.BooleanField(
        label=_("请为我保密"),
        required=False,
        help_text=_("承办单位看不到您的姓名和电话。"),
    )
    channel = forms.ChoiceField(
        choices=[(c.value, c.label) for c in CHANNELS],
        initial=WorkOrder.Channel.WEB,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _category_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # A point needs both halves; half of one is dropped, not refused (the address counts).
        if (data.get("lat") is None) != (data.get("long") is None):
            data["lat"] = data["long"] = None
        return data


class LetterForm(PortalForm):
    """A letter to a mailbox (市长信箱, 局长信箱)."""

    kind = _kind_field()
    title = forms.CharField(
        label=_("标题"),
        max_length=100,
        error_messages={"required": _("请填写标题。")},
    )
    content = forms.CharField(
        label=_("来信内容"),
        max_length=CONTENT_MAX,
        help_text=_("最多 4000 字。"),
        widget=forms.Textarea(attrs={"rows": 8, "maxlength": CONTENT_MAX}),
        error_messages={"required": _("请填写来信内容。")},
    )
    publish_consent = forms.BooleanField(
        label=_("同意公开我的来信和答复"),
        required=False,
        help_text=_(
            "公开前，工作人员会删除您的姓名、电话、身份证号等个人信息，只公开来信的内容和答复。"
        ),
    )


class VisitForm(DomainErrorForm):
    """The citizen's own return visit (网上评价) of a replied order."""

    satisfaction = forms.TypedChoiceField(
        label=_("您对办理结果满意吗？"),
        coerce=int,
        choices=SATISFACTION_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择满意程度。")},
    )
    comment = forms.CharField(
        label=_("您的意见"),
        required=False,
        max_length=1000,
        help_text=_("选择“不满意”或“非常不满意”时必填，请写明原因，我们会重新办理。"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def add_domain_error(self, error: DomainError) -> None:
        # The service uses one code for both rules: an unhappy level without a reason is
        # about the comment.
        level = self.cleaned_data.get("satisfaction")
        if error.code == errors.SATISFACTION_INVALID and level is not None and level <= 2:
            self.add_error("comment", str(error.message))
        else:
            self.add_error("satisfaction", str(error.message))


class PublishForm(forms.Form):
    """A staff member's redacted copy of a letter and its reply, for publication."""

    public_title = forms.CharField(label=_("公开标题"), max_length=100)
    public_content = forms.CharField(label=_("公开内容"), widget=forms.Textarea(attrs={"rows": 8}))
    public_reply = forms.CharField(label=_("公开答复"), widget=forms.Textarea(attrs={"rows": 6}))
