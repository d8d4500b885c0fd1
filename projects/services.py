"""Operations on projects shared by the API and the browser UI, each in one transaction."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import User, normalize_email
from projects.configsync import config_changed, project_deleted
from projects.models import ApiKey, Membership, Project, Role


class LastOwnerError(ValueError):
    pass


class QuotaExceeded(ValueError):
    """A limit of the deployment (a setting) forbids this; the message names it."""


class InviteError(ValueError):
    """The e-mail address cannot be added to the project; the message says why (shown on the form field)."""


def check_project_quota(owner) -> None:
    limit = settings.PROJECTS_PER_ACCOUNT
    # Locking the owner's memberships serialises concurrent creates by one account.
    owned = Membership.objects.select_for_update().filter(user=owner, role=Role.OWNER).count()
    if owned >= limit:
        raise QuotaExceeded(f"You already own {owned} projects, the most one account may own on this deployment "
                            f"(PROJECTS_PER_ACCOUNT={limit}); delete one, or ask the operator to raise the limit.")


@transaction.atomic
def create_project(name: str, owner) -> Project:
    from pipelines.models import Pipeline

    check_project_quota(owner)
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


def invitee(project: Project, email: str) -> User:
    """The active account with this e-mail address that is not yet a member of the project."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is None:
        raise InviteError("No account uses this e-mail address; ask them to sign up first.")
    if Membership.objects.filter(project=project, user=user).exists():
        raise InviteError("This person is already a member of the project.")
    return user


def add_member(project: Project, user: User, role: Role) -> Membership:
    try:
        with transaction.atomic():
            return Membership.objects.create(project=project, user=user, role=role)
    except IntegrityError:  # invited twice at the same moment
        raise InviteError("This person is already a member of the project.") from None


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
