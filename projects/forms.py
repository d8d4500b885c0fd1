"""Browser forms for projects, members and API keys; they validate like the API serializers."""

from __future__ import annotations

from django import forms

from accounts.models import User
from projects import services
from projects.models import Project, Role


class ProjectForm(forms.Form):
    name = forms.CharField(label="Project name", max_length=100,
                           widget=forms.TextInput(attrs={"placeholder": "checkout-service", "autocomplete": "off"}))

class DeleteProjectForm(forms.Form):
    """Deleting is irreversible (streams go too), so the user types the project's name to confirm."""

    confirm = forms.CharField(label="Type the project's name to confirm", max_length=100,
                              widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["confirm"].label = f"Type “{project.name}” to confirm"

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"]
        if value.strip() != self.project.name:
            raise forms.ValidationError(f"Type {self.project.name} exactly to delete this project.")
        return value


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail", widget=forms.EmailInput(attrs={"autocomplete": "off",
                                                                          "placeholder": "colleague@example.com"}))
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.VIEWER)

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.user: User | None = None

    def clean_email(self) -> str:
        try:
            self.user = services.invitee(self.project, self.cleaned_data["email"])
        except services.InviteError as exc:
            raise forms.ValidationError(str(exc)) from None
        return self.user.email


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label="Key name", max_length=100,
                           widget=forms.TextInput(attrs={"placeholder": "checkout-service production",
                                                         "autocomplete": "off"}))
