"""Key rotation for EncryptedTextField values: what is stored under which key, and moving every
value to the active key (``yiwang crypto status`` / ``yiwang crypto reencrypt``).

Stored values are read raw (the ciphertext, not the decrypted text) through an expression whose
output field is a plain TextField, so that counting needs no key and finding stale rows happens
in SQL.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction
from django.db.models import ExpressionWrapper, F, Q

from yiwang.core import crypto
from yiwang.core.audit import audit_record
from yiwang.core.errors import IntegrityFailure
from yiwang.core.fields import EncryptedTextField

EMPTY = "(empty)"
REENCRYPT_ACTION = "core.crypto_reencrypt"


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    fields: tuple[EncryptedTextField, ...]

    @property
    def label(self) -> str:
        return self.model._meta.label


def encrypted_columns() -> list[EncryptedColumn]:
    """Every model with EncryptedTextFields, each field listed once: on the model whose table
    holds it (multi-table inheritance children do not repeat their parents' fields)."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        fields = tuple(
            f for f in model._meta.local_concrete_fields if isinstance(f, EncryptedTextField)
        )
        if fields:
            found.append(EncryptedColumn(model=model, fields=fields))
    return found


def _raw(field: EncryptedTextField) -> ExpressionWrapper[F]:
    return ExpressionWrapper(F(field.attname), output_field=models.TextField())


def _raw_name(field: EncryptedTextField) -> str:
    return f"_raw_{field.attname}"


def encrypted_values_status() -> dict[str, Counter[str]]:
    """``{"accounts.User.id_number": Counter({"sm4-gcm:k2": 10, "(empty)": 3})}``."""
    report: dict[str, Counter[str]] = {}
    for column in encrypted_columns():
        for field in column.fields:
            counts: Counter[str] = Counter()
            rows = (
                column.model._base_manager.annotate(**{_raw_name(field): _raw(field)})
                .values_list(_raw_name(field), flat=True)
                .order_by()
            )
            for raw in rows.iterator(chunk_size=2000):
                counts[crypto.label_of(raw) if raw else EMPTY] += 1
            report[f"{column.label}.{field.name}"] = counts
    return report


def _stale(field: EncryptedTextField, current_prefix: str) -> Q:
    name = _raw_name(field)
    return (
        ~Q(**{name: ""})
        & Q(**{f"{name}__isnull": False})
        & ~Q(**{f"{name}__startswith": current_prefix})
    )


def encrypted_values_reencrypt(*, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt every value not under the active cipher and key, ``batch_size`` rows per
    transaction (rows locked, one audit row per batch), so that a long run can stop and resume
    without holding one huge transaction. Returns the number of rows changed per model.

    Raises IntegrityFailure naming the row if a value cannot be decrypted (an unknown key id:
    put the old key back into YIWANG_FIELD_KEYS); batches already done stay committed.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    target = f"{crypto.active_cipher()}:{crypto.keyring().active_id}"
    prefix = target + ":"
    changed: dict[str, int] = {}
    for column in encrypted_columns():
        manager = column.model._base_manager
        annotations = {_raw_name(f): _raw(f) for f in column.fields}
        stale = Q()
        for field in column.fields:
            stale |= _stale(field, prefix)
        changed[column.label] = 0
        last_pk = None
        while True:
            with transaction.atomic():
                rows = manager.select_for_update().annotate(**annotations).filter(stale)
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                batch = list(rows.order_by("pk").values_list("pk", *annotations)[:batch_size])
                if not batch:
                    break
                for pk, *raws in batch:
                    updates = {}
                    for field, raw in zip(column.fields, raws, strict=True):
                        if raw and not raw.startswith(prefix):
                            try:
                                updates[field.attname] = crypto.decrypt(raw)
                            except IntegrityFailure as exc:
                                raise IntegrityFailure(
                                    exc.code,
                                    f"{column.label} pk={pk} {field.name}: {exc.message}",
                                    **exc.extra,
                                ) from exc
                    # update() encrypts through EncryptedTextField.get_db_prep_save.
                    manager.filter(pk=pk).update(**updates)
                audit_record(
                    actor=None,
                    action=REENCRYPT_ACTION,
                    object_type=column.model._meta.label_lower,
                    reason="field key rotation",
                    after={
                        "rows": len(batch),
                        "first_pk": str(batch[0][0]),
                        "last_pk": str(batch[-1][0]),
                        "to": target,
                    },
                )
                changed[column.label] += len(batch)
                last_pk = batch[-1][0]
    return changed
