"""factory_boy factories and a team of four: an owner, an admin, a viewer and an outsider."""

from __future__ import annotations

from dataclasses import dataclass

import factory

from accounts.models import User
from pipelines.models import Pipeline
from projects.models import Membership, Project, Role
from sinks.models import Sink

PASSWORD = "correct-horse-battery-staple-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):
        if create:
            self.save()


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"project-{n}")


@dataclass
class Team:
    project: Project
    owner: User
    admin: User
    viewer: User
    outsider: User

    def user(self, role: str) -> User:
        return getattr(self, role)


def make_team() -> Team:
    from pipelines.models import Pipeline

    owner, admin, viewer, outsider = (UserFactory() for _ in range(4))
    project = ProjectFactory(created_by=owner)
    Pipeline.objects.create(project=project)
    for user, role in ((owner, Role.OWNER), (admin, Role.ADMIN), (viewer, Role.VIEWER)):
        Membership.objects.create(project=project, user=user, role=role)
    return Team(project, owner, admin, viewer, outsider)


def project_state(project_id) -> dict:
    """Everything a write could change, to compare before and after a refused one."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return {}
    pipeline = Pipeline.objects.filter(project=project).values().first()
    return {
        "project": Project.objects.filter(pk=project_id).values("name", "config_version").first(),
        "members": sorted(project.memberships.values_list("user_id", "role")),
        "keys": sorted(project.api_keys.values_list("name", "revoked_at")),
        "pipeline": pipeline,
        "sinks": sorted(Sink.objects.filter(project=project).values_list("name", "enabled", "config")),
    }
