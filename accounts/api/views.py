from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..services.users import profile_update


class HospitalRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)
    first_name = serializers.CharField(max_length=150, allow_blank=True)
    last_name = serializers.CharField(max_length=150, allow_blank=True)
    roles = serializers.SerializerMethodField()
    hospital = HospitalRefSerializer(read_only=True, allow_null=True)
    mfa_verified = serializers.SerializerMethodField()

    def get_roles(self, user) -> list[str]:
        return [r.value for r in user.roles]

    def get_mfa_verified(self, user) -> bool:
        return bool(user.is_verified())


class MeView(APIView):
    """The signed-in user's own profile."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=MeSerializer, responses=MeSerializer)
    def patch(self, request: Request) -> Response:
        serializer = MeSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = profile_update(
            user=request.user,
            first_name=serializer.validated_data.get("first_name", request.user.first_name),
            last_name=serializer.validated_data.get("last_name", request.user.last_name),
        )
        return Response(MeSerializer(user).data)
