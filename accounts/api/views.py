"""Authentication endpoints: signup, login, refresh (rotating), logout (blacklisting), password change, me."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.api.serializers import (
    LogoutSerializer,
    PasswordChangeSerializer,
    SignupSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from accounts.throttling import AuthThrottle


class AuthThrottleMixin:
    throttle_classes = [AuthThrottle]
    throttle_scope = "auth"


class SignupView(AuthThrottleMixin, generics.GenericAPIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    serializer_class = SignupSerializer

    @extend_schema(responses={201: UserSerializer})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.save()
        refresh = RefreshToken.for_user(user)
        body = {"user": UserSerializer(user).data, "access": str(refresh.access_token), "refresh": str(refresh)}
        return Response(body, status=status.HTTP_201_CREATED)


class LoginView(AuthThrottleMixin, TokenObtainPairView):
    """Exchange e-mail and password for an access and a refresh token."""


class RefreshView(AuthThrottleMixin, TokenRefreshView):
    """Exchange a refresh token for a new access token and a new refresh token (the old one is blacklisted)."""


class LogoutView(generics.GenericAPIView):
    serializer_class = LogoutSerializer

    @extend_schema(responses={204: None})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
            if str(token.get("user_id")) != str(request.user.pk):
                return Response({"refresh": ["This refresh token belongs to another user."]}, status=400)
            token.blacklist()
        except TokenError as exc:
            return Response({"refresh": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(AuthThrottleMixin, generics.GenericAPIView):
    """Change the caller's password. Every refresh token issued before is revoked (so are access
    tokens); the answer carries a fresh pair for the caller to continue with."""

    serializer_class = PasswordChangeSerializer

    @extend_schema(responses={200: TokenPairSerializer})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        request.user.set_password(serializer.validated_data["new_password"])
        request.user.save()  # revokes the old tokens (accounts.models.User.save)
        refresh = RefreshToken.for_user(request.user)
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


class MeView(APIView):
    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)
