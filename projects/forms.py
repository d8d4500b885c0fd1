"""Browser forms for projects."""

from __future__ import annotations

from django import forms


class ProjectForm(forms.Form):
    name = forms.CharField(label="Project name", max_length=100,
                           widget=forms.TextInput(attrs={"placeholder": "checkout-service", "autocomplete": "off"}))

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("A project needs a name.")
        return name
