"""Browser forms for signing up and logging in; they validate like the API serializers do."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from accounts.models import User, normalize_email


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True,
                                                                            "autocomplete": "email"}))


class SignupForm(forms.Form):
    email = forms.EmailField(label="E-mail", max_length=254,
                             widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}))
    name = forms.CharField(label="Name", max_length=150, required=False)
    password = forms.CharField(label="Password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=password_validation.password_validators_help_text_html())

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError("An account with this e-mail address already exists.")
        return email

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("email") and cleaned.get("password"):
            candidate = User(email=cleaned["email"], name=cleaned.get("name", ""))
            try:
                password_validation.validate_password(cleaned["password"], user=candidate)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned

    def save(self) -> User:
        data = self.cleaned_data
        return User.objects.create_user(data["email"], data["password"], name=data.get("name", ""))
