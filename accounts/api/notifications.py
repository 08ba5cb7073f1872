"""The signed-in user's own notifications. Another user's notification is a 404, never a 403."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors
from ..services.notifications import notification_mark_read


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    subject = serializers.CharField()
    body = serializers.CharField()
    link = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationListView(ListAPIView):
    """Newest first, in pages (`?page=`)."""

    serializer_class = NotificationSerializer
    filter_backends = []  # the user's own rows, newest first; nothing to filter or reorder

    def get_queryset(self):
        return selectors.notifications_for(user=self.request.user)


class NotificationReadView(APIView):
    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request: Request, notification_id: int) -> Response:
        notification = notification_mark_read(user=request.user, notification_id=notification_id)
        if notification is None:
            raise Http404
        return Response(NotificationSerializer(notification).data)
