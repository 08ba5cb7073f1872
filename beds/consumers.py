"""Live board: one socket per open board page; hospitals' counts and alerts are pushed to it."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

STAFF_GROUP = "board.staff"
PUBLIC_GROUP = "board.public"


def session_group_name(session_key: str) -> str:
    return f"session.{session_key}"


def session_group(scope) -> str | None:
    session = scope.get("session")
    key = getattr(session, "session_key", None)
    return session_group_name(key) if key else None


class BoardConsumer(AsyncJsonWebsocketConsumer):
    """Staff board: counts and alerts. Needs a signed-in staff member whose session passed MFA."""

    group = STAFF_GROUP

    async def connect(self):
        if not await self.allowed():
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.session_group = session_group(self.scope)
        if self.session_group:
            # Sign-out, a revoked session or an MFA reset closes this socket (see beds.live).
            await self.channel_layer.group_add(self.session_group, self.channel_name)
        await self.accept()

    async def allowed(self) -> bool:
        from channels.db import database_sync_to_async

        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return False

        session = self.scope.get("session")

        def check() -> bool:
            from django_otp import DEVICE_ID_SESSION_KEY
            from django_otp.models import Device

            from accounts.permissions import mfa_satisfied

            from .permissions import can_view_board

            # What django-otp's middleware does for HTTP requests: the session's device, if it
            # is this user's and confirmed, makes the connection MFA-verified.
            persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
            device = Device.from_persistent_id(persistent_id) if persistent_id else None
            verified = device is not None and device.user_id == user.pk and device.confirmed
            user.otp_device = device if verified else None
            user.is_verified = lambda: verified
            return can_view_board(user) and mfa_satisfied(user)

        return await database_sync_to_async(check)()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)
        if getattr(self, "session_group", None):
            await self.channel_layer.group_discard(self.session_group, self.channel_name)

    async def session_ended(self, event):
        await self.close(code=4401)

    async def receive_json(self, content, **kwargs):
        """The board only listens."""

    async def board_availability(self, event):
        await self.send_json({"type": "availability", "entry": event["entry"]})

    async def board_alert(self, event):
        await self.send_json({"type": "alert", "alert": event["alert"]})


class PublicBoardConsumer(BoardConsumer):
    """Public board: counts only, anyone may connect."""

    group = PUBLIC_GROUP

    async def allowed(self) -> bool:
        return True

    async def connect(self):
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def board_alert(self, event):
        """Alerts are for staff boards only."""
