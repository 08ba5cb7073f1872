"""Enrolling, removing and resetting MFA devices; backup codes."""

import base64
import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction

from audit.signals import security_event

from ..models import BackupCode, BackupCodeDevice, TOTPDevice, User
from ..models.mfa import backup_code_digests, generate_backup_code
from .sessions import user_sessions_revoke_all


class MFAError(Exception):
    """A user-facing refusal, with a message safe to show."""


@transaction.atomic
def totp_device_start(*, user: User, name: str) -> TOTPDevice:
    """Create an unconfirmed authenticator for the user to scan; earlier unconfirmed ones go."""
    name = (name or "").strip() or "Authenticator app"
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice(user=user, name=name[:64], confirmed=False)
    device.full_clean()
    device.save()
    return device


def totp_qr_data_uri(*, device: TOTPDevice) -> str:
    """The enrolment QR code as an SVG data URI (no inline markup, so CSP stays strict)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@transaction.atomic
def totp_device_confirm(*, user: User, device_id: int, token: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm a pending authenticator with a code from it.

    Returns the device and new backup codes when this is the user's first device (shown
    once; an empty list for a further device), or raises MFAError on a wrong code.
    """
    device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
    if device is None:
        raise MFAError("This enrolment has expired. Start again.")
    if not device.verify_token(token):
        raise MFAError("That code is not valid. Check the time on your phone and enter the current code.")
    first = not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    security_event.send(
        sender=TOTPDevice, action="mfa_enrolled", subject=user, actor=user, changes={"device": {"new": device.name}}
    )
    codes: list[str] = []
    if first or not BackupCodeDevice.objects.filter(user=user).exists():
        codes = _backup_codes_replace(user=user)
    return device, codes


def _backup_codes_replace(*, user: User) -> list[str]:
    device, _ = BackupCodeDevice.objects.get_or_create(user=user, defaults={"name": "Backup codes", "confirmed": True})
    device.codes.all().delete()
    codes = [generate_backup_code() for _ in range(settings.MFA_BACKUP_CODE_COUNT)]
    BackupCode.objects.bulk_create(BackupCode(device=device, digest=backup_code_digests(c)[0]) for c in codes)
    device.throttle_reset(commit=True)
    return codes


@transaction.atomic
def backup_codes_regenerate(*, user: User) -> list[str]:
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise MFAError("Add an authenticator app before creating backup codes.")
    codes = _backup_codes_replace(user=user)
    security_event.send(
        sender=BackupCodeDevice, action="mfa_enrolled", subject=user, actor=user, reason="new backup codes"
    )
    return codes


@transaction.atomic
def totp_device_remove(*, user: User, device_id: int) -> None:
    device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user).first()
    if device is None:
        raise MFAError("That device does not exist.")
    device.delete()
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        # Backup codes stand in for a device; with none left they would be a lone factor.
        BackupCodeDevice.objects.filter(user=user).delete()
    security_event.send(
        sender=TOTPDevice, action="mfa_removed", subject=user, actor=user, changes={"device": {"old": device.name}}
    )


@transaction.atomic
def mfa_reset_for_user(*, actor: User, user: User) -> int:
    """IT security: remove every MFA device of `user`; they enrol again at next sign-in."""
    removed = 0
    for model in (TOTPDevice, BackupCodeDevice):
        for device in model.objects.select_for_update().filter(user=user):
            device.delete()
            removed += 1
    # A session that passed MFA with a removed device must not live on to enrol a new one.
    user_sessions_revoke_all(user=user)
    security_event.send(
        sender=User, action="mfa_reset", subject=user, actor=actor, changes={"devices": {"removed": removed}}
    )
    return removed
