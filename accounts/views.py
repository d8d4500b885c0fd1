"""Browser pages for signing up, logging in and out (Django sessions with CSRF)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from accounts.forms import LoginForm, SignupForm
from accounts.throttling import form_rate_limited

RATE_LIMITED = "Too many attempts from your address. Wait a minute and try again."


class RateLimitedPost:
    """A form view whose POSTs share the per-address attempt limit: over it, the form is shown
    again with one error and a 429, and the form is not even checked."""

    def post(self, request, *args, **kwargs):
        if form_rate_limited(request):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, RATE_LIMITED)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)


class LoginView(RateLimitedPost, auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("projects:list")
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form_rate_limited(request):
            form.add_error(None, RATE_LIMITED)
            status = 429
        elif form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("projects:list")
        else:
            status = 400
    return render(request, "accounts/signup.html", {"form": form}, status=status)


def admin_login(request, extra_context=None):
    """Django admin's login page behind the same rate limit as the product's login."""
    if request.method == "POST" and form_rate_limited(request):
        return HttpResponse(RATE_LIMITED, status=429, content_type="text/plain; charset=utf-8")
    return admin.site.login(request, extra_context)


class LogoutView(auth_views.LogoutView):
    """POST-only logout (Django 5), redirecting to the login page."""


class PasswordChangeView(RateLimitedPost, auth_views.PasswordChangeView):
    """Change the password of the logged-in user; the session stays valid (Django updates its hash).
    Guessing the old password from a borrowed session is as limited as guessing at login."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("projects:list")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password was changed.")
        return response

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)
