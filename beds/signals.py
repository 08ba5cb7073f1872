from django.dispatch import Signal

# Sent after commit, once per hospital whose beds changed (its Availability rows are fresh): kwargs hospital_id.
bed_status_changed = Signal()

# Sent after commit when an alert is raised: kwargs alert_id.
alert_raised = Signal()
