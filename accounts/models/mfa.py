"""MFA devices on django-otp's base classes.

django-otp's stock TOTP and static-token models keep the TOTP secret and the backup codes
in clear. Here the TOTP key is Fernet-encrypted (FERNET_KEYS) and backup codes are kept only
as keyed digests, so a database dump reveals neither.
"""

import hmac
import secrets
import time
from base64 import b32encode
from binascii import unhexlify
from hashlib import sha256
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.util import random_hex
from fernet_fields import EncryptedCharField


def _new_totp_key() -> str:
    return random_hex(20)


class TOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    key = EncryptedCharField(max_length=80, default=_new_totp_key, editable=False)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    # The time step of the last accepted code: a code at or below it is a replay.
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = "authenticator app"

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode())

    @property
    def base32_secret(self) -> str:
        return b32encode(self.bin_key).decode().rstrip("=")

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        token = str(token).strip().replace(" ", "")
        verified = False
        if token.isdigit() and len(token) == self.digits:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(int(token), self.tolerance, self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                if getattr(settings, "OTP_TOTP_SYNC", True):
                    self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    def get_throttle_factor(self) -> int:
        return settings.OTP_THROTTLE_FACTOR

    @property
    def config_url(self) -> str:
        issuer = str(getattr(settings, "OTP_TOTP_ISSUER", "") or "").replace(":", "")
        label = f"{issuer}:{self.user.get_username()}" if issuer else self.user.get_username()
        params = {
            "secret": self.base32_secret,
            "algorithm": "SHA1",
            "digits": self.digits,
            "period": self.step,
        }
        if issuer:
            params["issuer"] = issuer
        return f"otpauth://totp/{quote(label)}?{urlencode(params, quote_via=quote)}"


_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def normalize_backup_code(code: str) -> str:
    return "".join(ch for ch in str(code).lower() if ch.isalnum())


def backup_code_digests(code: str) -> list[str]:
    """Keyed digests of a code under the current secret key and its fallbacks."""
    normalized = normalize_backup_code(code).encode()
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [hmac.new(f"accounts.backup-code:{key}".encode(), normalized, sha256).hexdigest() for key in keys]


def generate_backup_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


class BackupCodeDevice(ThrottlingMixin, Device):
    """One per user: the set of one-time backup codes."""

    class Meta(Device.Meta):
        verbose_name = "backup codes"
        constraints = [models.UniqueConstraint(fields=["user"], name="one_backup_code_device_per_user")]

    def get_throttle_factor(self) -> int:
        return settings.OTP_THROTTLE_FACTOR

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        if len(normalize_backup_code(token)) != 10:
            self.throttle_increment(commit=True)
            return False
        code = (
            self.codes.select_for_update().filter(digest__in=backup_code_digests(token), used_at__isnull=True).first()
        )
        if code is None:
            self.throttle_increment(commit=True)
            return False
        code.used_at = timezone.now()
        code.save(update_fields=["used_at"])
        self.throttle_reset(commit=True)
        return True


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "digest"], name="backup_code_unique_per_device")]

    def __str__(self) -> str:
        return f"backup code #{self.pk} ({'used' if self.used_at else 'unused'})"
