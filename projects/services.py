"""Operations on projects shared by the API and the browser UI, each in one transaction."""

from __future__ import annotations

from django.db import transaction

from projects.configsync import config_changed, project_deleted
from projects.models import ApiKey, Membership, Project, Role


class LastOwnerError(ValueError):
    pass


@transaction.atomic
def create_project(name: str, owner) -> Project:
    from pipelines.models import Pipeline

    project = Project.objects.create(name=name, created_by=owner)
    Membership.objects.create(project=project, user=owner, role=Role.OWNER)
    Pipeline.objects.create(project=project)
    config_changed(project)
    return project


@transaction.atomic
def rename_project(project: Project, name: str) -> Project:
    project.name = name
    project.save(update_fields=["name", "updated_at"])
    config_changed(project)
    return project


@transaction.atomic
def delete_project(project: Project) -> None:
    project_id = project.pk
    project.delete()
    project_deleted(project_id)


@transaction.atomic
def mint_key(project: Project, name: str, created_by) -> tuple[ApiKey, str]:
    key, secret = ApiKey.mint(project, name, created_by=created_by)
    config_changed(project)
    return key, secret


@transaction.atomic
def revoke_key(key: ApiKey) -> ApiKey:
    from django.utils import timezone

    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        config_changed(key.project)
    return key


def _other_owners(membership: Membership) -> bool:
    return (Membership.objects.select_for_update().filter(project=membership.project, role=Role.OWNER)
            .exclude(pk=membership.pk).exists())


@transaction.atomic
def change_role(membership: Membership, role: Role) -> Membership:
    if membership.role == Role.OWNER and role != Role.OWNER and not _other_owners(membership):
        raise LastOwnerError("A project needs at least one owner: make someone else owner first.")
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(membership: Membership) -> None:
    if membership.role == Role.OWNER and not _other_owners(membership):
        raise LastOwnerError("The last owner cannot be removed: make someone else owner first, or delete the project.")
    membership.delete()
