"""factory_boy factories and a team of four: an owner, an admin, a viewer and an outsider."""

from __future__ import annotations

from dataclasses import dataclass

import factory

from accounts.models import User
from projects.models import Membership, Project, Role

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
