"""What a witness remembers: its own identity and, per log it watches, the latest checkpoint it
cosigned (c2sp.org/tlog-witness keeps nothing else).

The witness's private key is not here: it is the core signing key ``"witness.<name>"``
(yiwang.core.signing), so a hardware module can hold it.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.core.models import TimeStamped


class WitnessIdentity(TimeStamped):
    """The name this witness signs under (its cosignature key name), e.g.
    ``witness.caizheng.luan.example``. One per deployment."""

    name = models.CharField(_("见证方名称"), max_length=200, unique=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("见证方身份")
        verbose_name_plural = _("见证方身份")

    def __str__(self) -> str:
        return self.name

    @property
    def key_name(self) -> str:
        return f"witness.{self.name}"


class WitnessedLog(TimeStamped):
    """A log this witness trusts, and the latest checkpoint it cosigned for it."""

    origin = models.CharField(_("账本标识"), max_length=255, unique=True)
    # The log's verifier keys (c2sp vkeys), one per line: any one of them must sign.
    log_vkeys = models.TextField(_("账本公钥"))
    size = models.BigIntegerField(_("已见证的树大小"), default=0)
    root_hash = models.CharField(_("根哈希（十六进制）"), max_length=64, blank=True)
    checkpoint = models.TextField(_("最近见证的检查点"), blank=True)
    cosigned_at = models.DateTimeField(_("最近见证时间"), null=True, blank=True)

    class Meta:
        ordering = ["origin"]
        verbose_name = _("被见证的账本")
        verbose_name_plural = _("被见证的账本")
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=0), name="witness_log_size_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.origin} ({self.size})"

    def vkey_lines(self) -> list[str]:
        return [line.strip() for line in self.log_vkeys.splitlines() if line.strip()]


class WitnessEvidence(TimeStamped):
    """A checkpoint correctly signed by a trusted log that this witness refused as inconsistent
    with what it cosigned before: evidence of a fork or a rewrite, kept for the auditors
    (tlog-witness allows a witness to log such requests; it never cosigns them)."""

    log = models.ForeignKey(
        WitnessedLog, verbose_name=_("账本"), on_delete=models.CASCADE, related_name="evidence"
    )
    reason = models.CharField(_("拒绝原因"), max_length=200)
    witnessed_size = models.BigIntegerField(_("当时已见证的树大小"))
    witnessed_root = models.CharField(_("当时已见证的根哈希"), max_length=64, blank=True)
    request_body = models.TextField(_("请求内容"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("账本不一致证据")
        verbose_name_plural = _("账本不一致证据")

    def __str__(self) -> str:
        return f"{self.log.origin}: {self.reason}"
