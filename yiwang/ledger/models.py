"""The transparency log's storage: entries, the tree in tiles, the log state, checkpoints and
the witnesses' cosignatures.

Why this shape (see README.md): appending is an INSERT into a pending queue (``index`` NULL),
so it costs the caller's transaction one row and no lock; one integrator at a time (the
``LogState`` row locked FOR UPDATE) gives the queue indexes and rewrites only the tree's right
edge. The tree is kept as tiles (yiwang.ledger.tiles) so that a proof at a million entries is a
few indexed reads of small blobs.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.ledger.merkle import EMPTY_ROOT


class Entry(models.Model):
    """One event in the log. ``leaf_input`` is the exact bytes hashed into the tree (RFC 8785
    JSON); it is never rewritten, and ``ledger_audit`` rehashes it to prove so."""

    id = models.BigAutoField(primary_key=True)
    # "index" is a keyword in SQL; the column name keeps raw SQL (tamper tests, audits) simple.
    index = models.BigIntegerField(_("序号"), null=True, unique=True, db_column="leaf_index")
    kind = models.CharField(_("类型"), max_length=40)
    subject = models.CharField(_("对象"), max_length=200)
    leaf_input = models.BinaryField(_("叶子内容"))
    leaf_hash = models.BinaryField(_("叶子哈希"), max_length=32)
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("日志条目")
        verbose_name_plural = _("日志条目")
        indexes = [
            # The integrator's queue: only pending rows are in it, so it stays tiny.
            models.Index(
                fields=["id"], condition=Q(index__isnull=True), name="ledger_entry_pending"
            ),
            models.Index(fields=["subject"], name="ledger_entry_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} #{self.index}"


class Tile(models.Model):
    """An 8-level slice of the tree (yiwang.ledger.tiles); ``hashes`` is the concatenation."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField(db_column="tile_index")
    width = models.PositiveSmallIntegerField()
    hashes = models.BinaryField()

    class Meta:
        verbose_name = _("哈希瓦片")
        verbose_name_plural = _("哈希瓦片")
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="ledger_tile_key")]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index} ({self.width})"


class LogState(models.Model):
    """The single row the integrator locks: size and root of the integrated tree."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    root = models.BinaryField(default=EMPTY_ROOT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("日志状态")
        verbose_name_plural = _("日志状态")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="ledger_logstate_single")]

    def __str__(self) -> str:
        return f"log size {self.size}"


class Checkpoint(models.Model):
    """A signed note the log published (C2SP tlog-checkpoint)."""

    size = models.BigIntegerField(_("树大小"))
    root = models.BinaryField(_("根哈希"))
    note = models.TextField(_("签名检查点"))
    created_at = models.DateTimeField(_("发布时间"), default=timezone.now)

    class Meta:
        verbose_name = _("检查点")
        verbose_name_plural = _("检查点")
        indexes = [models.Index(fields=["size"], name="ledger_checkpoint_size")]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class LogWitness(models.Model):
    """A witness the log asks to cosign (another department's ``yiwang witness``)."""

    name = models.CharField(_("名称"), max_length=200, unique=True)
    url = models.URLField(_("地址"), max_length=500)
    vkey = models.TextField(_("验证公钥"))
    active = models.BooleanField(_("启用"), default=True)
    # The size this witness last cosigned: the next request proves consistency from it.
    last_size = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("见证方")
        verbose_name_plural = _("见证方")

    def __str__(self) -> str:
        return self.name


class Cosignature(models.Model):
    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="cosignatures"
    )
    witness = models.CharField(_("见证方"), max_length=200)
    line = models.TextField(_("联署签名行"))
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)

    class Meta:
        verbose_name = _("联署签名")
        verbose_name_plural = _("联署签名")
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness"], name="ledger_cosig_once")
        ]

    def __str__(self) -> str:
        return f"{self.witness} @ {self.checkpoint_id}"
