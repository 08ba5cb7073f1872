"""Re-encrypt every encrypted field under the newest key in FERNET_KEYS.

Rotation: put the new key first in FERNET_KEYS (keep the old ones after it), deploy, run this
command, then remove the old keys. Data stays readable throughout, since every key in the list
decrypts. Rows are re-saved in batches by primary key; an interrupted run resumes from its
checkpoint in var/ (or starts again with --restart; re-encrypting a row twice is harmless).
"""

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from hospital.crypto import encrypted_fields, models_with_encrypted_fields, reset_fernet_caches


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field under the newest key in FERNET_KEYS (batched, resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--restart", action="store_true", help="ignore the checkpoint and start over")

    def handle(self, *args, batch_size, restart, **options):
        if not settings.FERNET_KEYS:
            raise CommandError("FERNET_KEYS is empty.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        reset_fernet_caches()
        checkpoint_path = Path(settings.BASE_DIR) / "var" / "rotate_keys.checkpoint.json"
        checkpoint = {} if restart or not checkpoint_path.exists() else json.loads(checkpoint_path.read_text())
        for model in models_with_encrypted_fields():
            label = model._meta.label
            fields = [f.name for f in encrypted_fields(model)]
            qs = model._default_manager.order_by("pk")
            total = qs.count()
            last_pk = checkpoint.get(label)
            done = qs.filter(pk__lte=last_pk).count() if last_pk is not None else 0
            while True:
                batch_qs = qs.filter(pk__gt=last_pk) if last_pk is not None else qs
                batch = list(batch_qs[:batch_size])
                if not batch:
                    break
                with transaction.atomic():
                    for obj in batch:
                        # Saving writes each value encrypted with the first (newest) key.
                        obj.save(update_fields=fields)
                last_pk = batch[-1].pk
                done += len(batch)
                checkpoint[label] = last_pk
                checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
                checkpoint_path.write_text(json.dumps(checkpoint))
                self._progress(label, done, total)
            self._progress(label, total, total, end=True)
        self._rotate_files(checkpoint, checkpoint_path, batch_size)
        checkpoint_path.unlink(missing_ok=True)
        self.stdout.write(self.style.SUCCESS("Every encrypted value now uses the newest key."))

    def _rotate_files(self, checkpoint: dict, checkpoint_path: Path, batch_size: int) -> None:
        """Stored documents: every file rewritten under the newest key (the apps that keep files say so)."""
        from django.apps import apps

        for model in apps.get_models():
            rotate = getattr(model, "rotate_stored_files", None)
            if rotate is None:
                continue
            label = f"{model._meta.label} files"
            qs = model._default_manager.order_by("pk")
            total, last_pk = qs.count(), checkpoint.get(label)
            done = qs.filter(pk__lte=last_pk).count() if last_pk is not None else 0
            remaining = qs.filter(pk__gt=last_pk) if last_pk is not None else qs
            for obj in remaining.iterator(chunk_size=batch_size):
                rotate(obj)
                done += 1
                checkpoint[label] = obj.pk
                checkpoint_path.write_text(json.dumps(checkpoint))
                self._progress(label, done, total)
            self._progress(label, total, total, end=True)

    def _progress(self, label: str, done: int, total: int, end: bool = False) -> None:
        width = 30
        filled = width if total == 0 else int(width * done / total)
        line = f"\r{label:<24} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        self.stdout.write(line, ending="\n" if end else "")
        if not end:
            sys.stdout.flush()
