"""Routes of the authentication API."""

from __future__ import annotations

from django.urls import path

from accounts.api import views

urlpatterns = [
    path("signup/", views.SignupView.as_view(), name="api-signup"),
    path("login/", views.LoginView.as_view(), name="api-login"),
    path("refresh/", views.RefreshView.as_view(), name="api-refresh"),
    path("logout/", views.LogoutView.as_view(), name="api-logout"),
    path("password/", views.PasswordChangeView.as_view(), name="api-password-change"),
    path("me/", views.MeView.as_view(), name="api-me"),
]
