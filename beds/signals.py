from django.dispatch import Signal

# Sent after commit, once per changed bed: kwargs bed_id, hospital_id, kind, status.
bed_status_changed = Signal()
