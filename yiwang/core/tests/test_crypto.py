"""Field encryption (SM4-GCM / AES-GCM with key ids), blind indexes, EncryptedTextField and the
``yiwang crypto`` key-rotation command, on the real database."""

from __future__ import annotations

import base64
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from yiwang.core import crypto
from yiwang.core.errors import IntegrityFailure
from yiwang.core.models import AuditEntry

KEY_A = base64.b64encode(b"A" * 16).decode()  # t1 in the test settings
KEY_B = base64.b64encode(b"B" * 16).decode()  # t2, the active key in the test settings
KEY_C = base64.b64encode(b"C" * 16).decode()
ONLY_T1 = f"t1:{KEY_A}"
ID_NUMBER = "341502198001010012"
PHONE = "13812345678"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _flip(token: str, index: int) -> str:
    cipher, key_id, encoded = token.split(":", 2)
    raw = bytearray(base64.b64decode(encoded))
    raw[index] ^= 0x01
    return f"{cipher}:{key_id}:{_b64(bytes(raw))}"


# --- encrypt / decrypt -------------------------------------------------------------------------


@pytest.mark.parametrize("cipher", ["sm4-gcm", "aes-gcm"])
def test_round_trip_with_each_cipher(cipher):
    with override_settings(YIWANG_FIELD_CIPHER=cipher):
        token = crypto.encrypt("张三 341502198001010012")
        assert token.startswith(f"{cipher}:t2:")
        assert crypto.decrypt(token) == "张三 341502198001010012"


@pytest.mark.parametrize("cipher", ["sm4-gcm", "aes-gcm"])
def test_empty_string_round_trips(cipher):
    with override_settings(YIWANG_FIELD_CIPHER=cipher):
        assert crypto.decrypt(crypto.encrypt("")) == ""


def test_a_fresh_nonce_every_time():
    tokens = [crypto.encrypt(ID_NUMBER) for _ in range(50)]
    nonces = {base64.b64decode(t.split(":", 2)[2])[: crypto.NONCE_BYTES] for t in tokens}
    assert len(set(tokens)) == 50
    assert len(nonces) == 50


def test_ciphers_are_not_interchangeable():
    # a value sealed with SM4 and relabelled as AES (same key) fails its check
    token = crypto.encrypt(ID_NUMBER)
    relabelled = token.replace("sm4-gcm:", "aes-gcm:", 1)
    with pytest.raises(IntegrityFailure) as info:
        crypto.decrypt(relabelled)
    assert info.value.code == "core.crypto_tampered"


def test_aes_gcm_values_are_standard_aes_gcm():
    # an independent implementation opens our value: the format is what the docstring says
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    with override_settings(YIWANG_FIELD_CIPHER="aes-gcm"):
        token = crypto.encrypt(PHONE)
    raw = base64.b64decode(token.split(":", 2)[2])
    assert AESGCM(b"B" * 16).decrypt(raw[:12], raw[12:], None) == PHONE.encode()


def test_old_key_still_decrypts_after_rotation():
    # given a value written while t1 was the only key
    with override_settings(YIWANG_FIELD_KEYS=ONLY_T1):
        old = crypto.encrypt(PHONE)
    # when t2 becomes active (t1 kept behind it)
    new = crypto.encrypt(PHONE)
    # then both read back, each under its own key id
    assert (crypto.key_id_of(old), crypto.key_id_of(new)) == ("t1", "t2")
    assert crypto.decrypt(old) == crypto.decrypt(new) == PHONE
    assert (crypto.is_current(old), crypto.is_current(new)) == (False, True)


def test_unknown_key_id_is_refused():
    with override_settings(YIWANG_FIELD_KEYS=f"t0:{KEY_C}"):
        token = crypto.encrypt(PHONE)
    with pytest.raises(IntegrityFailure) as info:
        crypto.decrypt(token)
    assert (info.value.code, info.value.extra) == ("core.crypto_unknown_key", {"key_id": "t0"})


@pytest.mark.parametrize("index", [0, 12, -1])  # nonce, ciphertext, tag
@pytest.mark.parametrize("cipher", ["sm4-gcm", "aes-gcm"])
def test_tampered_value_fails_its_check(cipher, index):
    with override_settings(YIWANG_FIELD_CIPHER=cipher):
        token = crypto.encrypt(ID_NUMBER)
        with pytest.raises(IntegrityFailure) as info:
            crypto.decrypt(_flip(token, index))
    assert info.value.code == "core.crypto_tampered"


def test_value_moved_to_another_known_key_id_fails_its_check():
    token = crypto.encrypt(ID_NUMBER)
    with pytest.raises(IntegrityFailure) as info:
        crypto.decrypt(token.replace(":t2:", ":t1:", 1))
    assert info.value.code == "core.crypto_tampered"


@pytest.mark.parametrize(
    "token",
    [
        "plaintext-341502198001010012",
        "sm4-gcm:t2",
        "sm4-gcm:t2:not base64!",
        "sm4-gcm:t2:" + _b64(b"x" * 27),  # shorter than nonce + tag
        "des:t2:" + _b64(b"x" * 40),
    ],
)
def test_malformed_values_are_refused(token):
    with pytest.raises(IntegrityFailure) as info:
        crypto.decrypt(token)
    assert info.value.code == "core.crypto_malformed"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "YIWANG_FIELD_KEYS holds no key"),
        ("k1", "YIWANG_FIELD_KEYS must look like"),
        ("k-1:" + KEY_A, "YIWANG_FIELD_KEYS must look like"),
        ("密钥:" + KEY_A, "YIWANG_FIELD_KEYS must look like"),
        ("k1:not-base64!", "field key 'k1' is not valid base64"),
        ("k1:" + _b64(b"A" * 15), "field key 'k1' must be 16 bytes"),
        ("k1:" + _b64(b"A" * 32), "field key 'k1' must be 16 bytes"),
        (f"k1:{KEY_A},k1:{KEY_B}", "field key id 'k1' appears twice"),
    ],
)
def test_bad_key_configuration_is_improperly_configured(spec, message):
    with override_settings(YIWANG_FIELD_KEYS=spec), pytest.raises(ImproperlyConfigured) as info:
        crypto.encrypt(PHONE)
    assert str(info.value).startswith(message)


def test_unknown_cipher_setting_is_improperly_configured():
    with (
        override_settings(YIWANG_FIELD_CIPHER="sm4-ecb"),
        pytest.raises(ImproperlyConfigured) as info,
    ):
        crypto.encrypt(PHONE)
    assert "YIWANG_FIELD_CIPHER" in str(info.value)


def test_first_key_is_active():
    with override_settings(YIWANG_FIELD_KEYS=f" k9:{KEY_C} , k1:{KEY_A} "):
        ring = crypto.keyring()
    assert (ring.active_id, sorted(ring.keys)) == ("k9", ["k1", "k9"])


# --- blind index -------------------------------------------------------------------------------


def test_blind_index_is_stable_and_normalised():
    a = crypto.blind_index("11010519491231002X", purpose="id_number")
    assert a == crypto.blind_index(" １１０１０５19491231002x ", purpose="id_number")
    assert len(a) == 64
    assert int(a, 16) >= 0


def test_blind_index_separates_purposes_and_values():
    digits = "13812345678"
    assert crypto.blind_index(digits, purpose="phone") != crypto.blind_index(
        digits, purpose="id_number"
    )
    assert crypto.blind_index(digits, purpose="phone") != crypto.blind_index(
        "13812345679", purpose="phone"
    )


def test_blind_index_depends_on_the_key():
    before = crypto.blind_index(PHONE, purpose="phone")
    with override_settings(YIWANG_BLIND_INDEX_KEY="another-blind-index-key-0123456789"):
        assert crypto.blind_index(PHONE, purpose="phone") != before


@pytest.mark.parametrize("purpose", ["", "Phone", "id\x00number", "x" * 65])
def test_blind_index_refuses_an_ambiguous_purpose(purpose):
    with pytest.raises(ValueError, match="purpose"):
        crypto.blind_index(PHONE, purpose=purpose)


@pytest.mark.parametrize("key", ["", "short"])
def test_blind_index_refuses_a_weak_key(key):
    with override_settings(YIWANG_BLIND_INDEX_KEY=key), pytest.raises(ImproperlyConfigured):
        crypto.blind_index(PHONE, purpose="phone")


# --- EncryptedTextField on accounts.User -----------------------------------------------------


def _raw_columns(user):
    table = connection.ops.quote_name(user._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id_number, phone FROM {table} WHERE id = %s",  # noqa: S608
            [user.pk],
        )
        return cursor.fetchone()


def _make_user(username, *, id_number=ID_NUMBER, phone=PHONE):
    return get_user_model().objects.create(
        username=username, real_name="张三", id_number=id_number, phone=phone
    )


@pytest.mark.django_db
def test_database_column_holds_no_plaintext():
    # when a user with an ID number and a phone is saved
    user = _make_user("zhangsan")
    # then the raw columns hold ciphertext under the active key, and nothing readable
    raw_id, raw_phone = _raw_columns(user)
    assert raw_id.startswith("sm4-gcm:t2:")
    assert raw_phone.startswith("sm4-gcm:t2:")
    for fragment in (ID_NUMBER, ID_NUMBER[-4:], PHONE, PHONE[-4:]):
        assert fragment not in raw_id
        assert fragment not in raw_phone
    # and the model reads the plain text back
    fresh = get_user_model().objects.get(pk=user.pk)
    assert (fresh.id_number, fresh.phone) == (ID_NUMBER, PHONE)


@pytest.mark.django_db
def test_update_and_empty_values():
    user = _make_user("lisi", phone="")
    assert _raw_columns(user)[1] == ""
    get_user_model().objects.filter(pk=user.pk).update(phone="13900000000")
    user.refresh_from_db()
    assert user.phone == "13900000000"
    assert _raw_columns(user)[1].startswith("sm4-gcm:t2:")


@pytest.mark.django_db
def test_searching_an_encrypted_field_by_value_is_refused():
    user = _make_user("wangwu", phone="")
    with pytest.raises(FieldError, match="blind-index"):
        list(get_user_model().objects.filter(id_number=ID_NUMBER))
    # the empty value and NULL checks stay usable
    assert list(get_user_model().objects.filter(phone="")) == [user]
    assert list(get_user_model().objects.filter(id_number__isnull=True)) == []


@pytest.mark.django_db
def test_tampered_column_fails_loudly_on_read():
    user = _make_user("zhaoliu")
    raw_id, _raw_phone = _raw_columns(user)
    table = connection.ops.quote_name(user._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET id_number = %s WHERE id = %s",  # noqa: S608
            [_flip(raw_id, 20), user.pk],
        )
    with pytest.raises(IntegrityFailure) as info:
        get_user_model().objects.get(pk=user.pk)
    assert info.value.code == "core.crypto_tampered"


# --- yiwang crypto status / reencrypt ---------------------------------------------------------


def _status():
    out = StringIO()
    call_command("crypto", "status", stdout=out)
    return [line for line in out.getvalue().splitlines() if "accounts.User." in line]


def _reencrypt_audit_count():
    return AuditEntry.objects.filter(action="core.crypto_reencrypt").count()


@pytest.mark.django_db
def test_reencrypt_moves_every_value_to_the_active_key():
    # given three users written under the old key t1, one without a phone
    with override_settings(YIWANG_FIELD_KEYS=ONLY_T1):
        users = [
            _make_user("u1", id_number="341502198001010012"),
            _make_user("u2", id_number="341502198001010020", phone=""),
            _make_user("u3", id_number="34150219800101003X", phone="13900000003"),
        ]
    before = [_raw_columns(u) for u in users]
    assert _status() == [
        "accounts.User.id_number sm4-gcm:t1 3",
        "accounts.User.phone (empty) 1",
        "accounts.User.phone sm4-gcm:t1 2",
    ]
    # when t2 is active and reencrypt runs in batches of two
    out = StringIO()
    call_command("crypto", "reencrypt", "--batch-size", "2", stdout=out)
    # then every value is under t2 and still reads the same
    assert "accounts.User 3 rows re-encrypted to sm4-gcm:t2" in out.getvalue()
    assert _status() == [
        "accounts.User.id_number sm4-gcm:t2 3",
        "accounts.User.phone (empty) 1",
        "accounts.User.phone sm4-gcm:t2 2",
    ]
    after = [_raw_columns(u) for u in users]
    assert all(a != b for a, b in zip(after[0] + after[2], before[0] + before[2], strict=True))
    assert after[1][1] == ""
    fresh = list(get_user_model().objects.filter(pk__in=[u.pk for u in users]).order_by("pk"))
    assert [(u.id_number, u.phone) for u in fresh] == [
        ("341502198001010012", PHONE),
        ("341502198001010020", ""),
        ("34150219800101003X", "13900000003"),
    ]
    # and one audit row per batch was written
    assert _reencrypt_audit_count() == 2
    entry = AuditEntry.objects.filter(action="core.crypto_reencrypt").order_by("seq").last()
    assert entry is not None
    assert entry.after == {
        "rows": 1,
        "first_pk": str(users[2].pk),
        "last_pk": str(users[2].pk),
        "to": "sm4-gcm:t2",
    }


@pytest.mark.django_db
def test_reencrypt_with_nothing_stale_changes_nothing():
    user = _make_user("current")
    before = _raw_columns(user)
    call_command("crypto", "reencrypt", stdout=StringIO())
    assert _raw_columns(user) == before
    assert _reencrypt_audit_count() == 0


@pytest.mark.django_db
def test_reencrypt_to_another_cipher():
    user = _make_user("switch")
    with override_settings(YIWANG_FIELD_CIPHER="aes-gcm"):
        call_command("crypto", "reencrypt", stdout=StringIO())
        raw = _raw_columns(user)
        assert raw[0].startswith("aes-gcm:t2:")
        assert get_user_model().objects.get(pk=user.pk).id_number == ID_NUMBER


@pytest.mark.django_db
def test_reencrypt_stops_at_a_value_under_an_unknown_key_and_names_it():
    # given u1 under t1, u2 under a key that is no longer configured, u3 under t1
    with override_settings(YIWANG_FIELD_KEYS=ONLY_T1):
        u1 = _make_user("u1")
    with override_settings(YIWANG_FIELD_KEYS=f"t0:{KEY_C}"):
        u2 = _make_user("u2", id_number="341502198001010020")
    with override_settings(YIWANG_FIELD_KEYS=ONLY_T1):
        u3 = _make_user("u3", id_number="34150219800101003X")
    raw2, raw3 = _raw_columns(u2), _raw_columns(u3)
    # when reencrypt runs one row per batch
    with pytest.raises(CommandError) as info:
        call_command("crypto", "reencrypt", "--batch-size", "1", stdout=StringIO())
    # then it names the row and the key; u1's batch is done; u2 and u3 are untouched
    assert str(info.value) == (
        f"core.crypto_unknown_key: accounts.User pk={u2.pk} id_number: unknown key id 't0'"
    )
    assert _raw_columns(u1)[0].startswith("sm4-gcm:t2:")
    assert (_raw_columns(u2), _raw_columns(u3)) == (raw2, raw3)
    assert _reencrypt_audit_count() == 1


@pytest.mark.django_db
def test_reencrypt_refuses_a_bad_batch_size():
    with pytest.raises(CommandError, match="--batch-size must be positive"):
        call_command("crypto", "reencrypt", "--batch-size", "0", stdout=StringIO())
    assert _reencrypt_audit_count() == 0
