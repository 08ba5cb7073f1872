"""Access grants: the care team (added by a hospital admin, or joined on admission), break-glass
emergency access, the patient's one-time consent codes, and revoking and expiring grants. guardian's
object permission follows the grants."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import User
from audit.signals import phi_accessed
from hospital.crypto import blind_index

from ..models import AccessGrant, ConsentCode, GrantReason, GrantScope, Patient
from ..permissions import can_break_glass, can_grant, can_redeem_consent
from .common import PatientError


def _grant(*, patient: Patient, grantee: User, reason: str, scope: str, hours: float, actor: User, why: str):
    grant = AccessGrant(
        patient=patient,
        grantee=grantee,
        reason=reason,
        scope=scope,
        justification=why,
        granted_by=actor,
        expires_at=timezone.now() + timedelta(hours=hours),
    )
    grant.full_clean()
    grant.save()
    # guardian's object permission follows the grants (removed when the last one ends).
    assign_perm("records.view_patient", grantee, patient)
    return grant


@transaction.atomic
def grant_care_team(
    *, actor: User, patient: Patient, grantee: User, scope: str = GrantScope.FULL, hours: float = 72
) -> AccessGrant:
    """A hospital admin adds a clinician to the patient's care team for a while."""
    if not can_grant(actor):
        raise PatientError("Only hospital administrators can add clinicians to a care team.")
    if scope not in GrantScope.values:
        raise PatientError("Choose full record, prescriptions, lab or demographics.")
    if not 0 < hours <= 24 * 30:
        raise PatientError("A care-team grant lasts from minutes to 30 days.")
    return _grant(
        patient=patient, grantee=grantee, reason=GrantReason.CARE_TEAM, scope=scope, hours=hours, actor=actor, why=""
    )


@transaction.atomic
def break_glass(*, actor: User, patient: Patient, reason: str) -> AccessGrant:
    """Emergency access without a grant: a stated reason, a short time, flagged in the audit trail."""
    reason = (reason or "").strip()
    if not can_break_glass(actor):
        raise PatientError("Your role cannot use emergency access.")
    if len(reason) < 10:
        raise PatientError("State why you need emergency access (at least 10 characters).")
    hours = getattr(settings, "BREAK_GLASS_HOURS", 1)
    grant = _grant(
        patient=patient,
        grantee=actor,
        reason=GrantReason.BREAK_GLASS,
        scope=GrantScope.FULL,
        hours=hours,
        actor=actor,
        why=reason[:500],
    )
    _tell_privacy_officers(grant)
    phi_accessed.send(
        sender=break_glass,
        action="break_glass",
        category="demographics",
        patient_id=patient.pk,
        obj=grant,
        object_label=f"emergency access to patient {patient.mrn}",
        reason=reason[:500],
    )
    return grant


def _tell_privacy_officers(grant: AccessGrant) -> None:
    from django.urls import reverse

    from accounts.roles import Role
    from accounts.selectors import users_to_notify
    from accounts.services.notifications import notification_create

    notification_create(
        recipients=users_to_notify(hospital_ids=[], hospital_roles=(), global_roles=(Role.PRIVACY_OFFICER,)),
        kind="records.break_glass",
        subject="Emergency access to a patient record",
        body=(
            f"{grant.grantee.get_username()} used emergency access (grant {grant.pk}) until "
            f"{timezone.localtime(grant.expires_at):%Y-%m-%d %H:%M}. Review it in the audit trail."
        ),
        link=reverse("audit:patient_timeline", args=[grant.patient_id]),
    )


def _drop_guardian_if_no_grant(grant: AccessGrant) -> None:
    still = AccessGrant.objects.filter(
        grantee_id=grant.grantee_id,
        patient_id=grant.patient_id,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).exists()
    if not still:
        remove_perm("records.view_patient", grant.grantee, grant.patient)


@transaction.atomic
def grant_revoke(*, actor: User, grant_id: int) -> AccessGrant:
    grant = AccessGrant.objects.select_for_update().filter(pk=grant_id).first()
    if grant is None:
        raise PatientError("That grant does not exist.")
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
    _drop_guardian_if_no_grant(grant)
    return grant


def grants_expire() -> int:
    """Remove the object permissions of every grant that ran out (Celery beat). Access already
    stopped at expiry: permissions are read from the grants' times."""
    count = 0
    for grant in AccessGrant.objects.filter(expires_at__lte=timezone.now(), revoked_at__isnull=True):
        with transaction.atomic():
            grant.revoked_at = grant.expires_at
            grant.save(update_fields=["revoked_at"])
            _drop_guardian_if_no_grant(grant)
            count += 1
    return count


_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


CONSENT_MAX_TRIES = 5


def _normalize_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


@transaction.atomic
def consent_code_create(
    *, actor: User, patient: Patient, scope: str = GrantScope.FULL, valid_minutes: int = 60, grant_hours: int = 24
) -> tuple[ConsentCode, str]:
    """The patient makes a one-time code to hand to a clinician; the code itself is returned once."""
    import secrets

    if patient.user_id != actor.pk:
        raise PatientError("Only the patient can create consent codes for their record.")
    if scope not in GrantScope.values:
        raise PatientError("Choose full record, prescriptions, lab or demographics.")
    if not 5 <= valid_minutes <= 7 * 24 * 60:
        raise PatientError("A code can be valid from 5 minutes to 7 days.")
    if not 1 <= grant_hours <= 24 * 30:
        raise PatientError("Access can last from 1 hour to 30 days.")
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    code = ConsentCode.objects.create(
        patient=patient,
        digest=blind_index(raw, purpose="records.consent-code"),
        scope=scope,
        grant_hours=grant_hours,
        expires_at=timezone.now() + timedelta(minutes=valid_minutes),
    )
    return code, f"{raw[:5]}-{raw[5:]}"


def consent_code_redeem(*, actor: User, patient: Patient, code: str) -> AccessGrant:
    """A clinician enters the patient's code: right once, it becomes a grant; five wrong tries kill the codes.

    Only care roles may redeem (see can_redeem_consent); anyone else is refused before any try is
    counted, so other accounts cannot spend the patient's codes either."""
    if not can_redeem_consent(actor):
        raise PatientError("Only a doctor, nurse, pharmacist or lab technician can use a patient's consent code.")
    now = timezone.now()
    digest = blind_index(_normalize_code(code), purpose="records.consent-code")
    with transaction.atomic():
        live = list(
            ConsentCode.objects.select_for_update().filter(
                patient=patient,
                used_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__gt=now,
                failed_attempts__lt=CONSENT_MAX_TRIES,
            )
        )
        match = next((c for c in live if c.digest == digest), None)
        if match is None:
            # Counted (and committed) before the refusal: guessing spends the codes' tries.
            for c in live:
                c.failed_attempts += 1
                c.save(update_fields=["failed_attempts"])
            grant = None
        else:
            match.used_at, match.used_by = now, actor
            match.save(update_fields=["used_at", "used_by"])
            grant = _grant(
                patient=patient,
                grantee=actor,
                reason=GrantReason.PATIENT_CONSENT,
                scope=match.scope,
                hours=match.grant_hours,
                actor=patient.user or actor,
                why="consent code",
            )
    if grant is None:
        raise PatientError("That code is not valid for this patient, or it has expired or been used.", fields=("code",))
    return grant


@transaction.atomic
def grant_revoke_by_patient(*, actor: User, grant_id: int) -> AccessGrant:
    """The patient ends any grant on their own record, at once."""
    grant = AccessGrant.objects.select_related("patient").filter(pk=grant_id).first()
    if grant is None or grant.patient.user_id != actor.pk:
        raise PatientError("That grant does not exist.")
    return grant_revoke(actor=actor, grant_id=grant.pk)


def care_team_join(*, patient: Patient, clinician: User, hours: float = 24 * 7) -> AccessGrant | None:
    """A clinician who admits (or holds a bed for) a patient joins the care team for a week.

    Called by the beds services; only clinical roles join (a coordinator booking from the board
    does not thereby read charts, nor open a transaction here for nothing)."""
    from accounts.roles import Role

    if not any(clinician.has_role(r) for r in (Role.DOCTOR, Role.NURSE)):
        return None
    with transaction.atomic():
        return _grant(
            patient=patient,
            grantee=clinician,
            reason=GrantReason.CARE_TEAM,
            scope=GrantScope.FULL,
            hours=hours,
            actor=clinician,
            why="admission",
        )
