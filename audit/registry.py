"""Which models are audited, and how. Domain apps register from their own AppConfig.ready().

    from audit.registry import register
    register(Patient, category="demographics", patient=lambda p: p.pk, label=lambda p: f"patient {p.mrn}")

`fields` limits the audited fields; `exclude` drops noisy ones; `secret` fields (and every
encrypted field) are reported only as "changed", never with values.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

from django.db import models


@dataclass(frozen=True)
class AuditConfig:
    model: type[models.Model]
    category: str
    fields: tuple[str, ...] | None = None
    exclude: frozenset[str] = field(default_factory=frozenset)
    secret: frozenset[str] = field(default_factory=frozenset)
    patient: Callable[[models.Model], int | None] | None = None
    label: Callable[[models.Model], str] | None = None

    @cached_property
    def audited(self) -> tuple[models.Field, ...]:
        concrete = [f for f in self.model._meta.concrete_fields if not f.primary_key]
        if self.fields is not None:
            concrete = [f for f in concrete if f.name in self.fields]
        return tuple(f for f in concrete if f.name not in self.exclude)

    def audited_fields(self) -> tuple[models.Field, ...]:
        return self.audited

    @cached_property
    def _secrecy(self) -> dict[str, bool]:
        # Asked for every changed field of every audited write: worked out once per model.
        return {f.name: f.name in self.secret or _is_encrypted(f) for f in self.audited}

    def is_secret(self, f: models.Field) -> bool:
        known = self._secrecy.get(f.name)
        return known if known is not None else (f.name in self.secret or _is_encrypted(f))

    def patient_of(self, instance: models.Model) -> int | None:
        return self.patient(instance) if self.patient else None

    def label_of(self, instance: models.Model) -> str:
        if self.label:
            return self.label(instance)[:200]
        return f"{self.model._meta.verbose_name} #{instance.pk}"


def _is_encrypted(f: models.Field) -> bool:
    return any(cls.__module__.startswith("fernet_fields") for cls in type(f).__mro__)


_registry: dict[type[models.Model], AuditConfig] = {}


def register(
    model: type[models.Model],
    *,
    category: str,
    fields: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    secret: Iterable[str] = (),
    patient: Callable[[models.Model], int | None] | None = None,
    label: Callable[[models.Model], str] | None = None,
) -> AuditConfig:
    from .models import Category

    if category not in Category.values:
        raise ValueError(f"unknown audit category {category!r}")
    config = AuditConfig(
        model=model,
        category=category,
        fields=tuple(fields) if fields is not None else None,
        exclude=frozenset(exclude),
        secret=frozenset(secret),
        patient=patient,
        label=label,
    )
    _registry[model] = config
    from .receivers import connect_model, watch_refresh

    connect_model(model)
    watch_refresh(model)
    return config


def config_for(model: type[models.Model]) -> AuditConfig | None:
    return _registry.get(model)


def registered_models() -> list[type[models.Model]]:
    return list(_registry)
