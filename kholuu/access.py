"""Who may see which document: users, roles, grants, declassification.

Pure logic, no database and no web: the catalog (``kholuu.catalog.users``)
stores users and grants, the web app finds out who is asking; both hand a
``User`` and their ``Grant`` list to ``access_filter``, the ONE function that
turns a caller into the filter every search and every catalog read carries.
It does not care how the user logged in (password today, OIDC later).

The rules (docs/ACCESS.md explains them to an archive's administrator):

* anonymous: public documents, or nothing when the archive turns public access off;
* researcher and editor: public documents, plus conditional documents granted to
  them by name or through a group, until the grant expires;
* archivist: the same, plus every document of the fonds they are assigned to;
* administrator: every document.

A grant never opens a secret document: a grant names a document that was
conditional, and if that document is later made secret, the grant stops working.
Declassification is a change of the document's mode (``declassify_due``), so a
declassified document is simply public everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

MODES = ("public", "conditional", "secret")
ROLES = ("anonymous", "researcher", "editor", "archivist", "administrator")
# people with an account (anonymous is what a visitor without one is)
ACCOUNT_ROLES = ROLES[1:]
ROLE_LABELS = {
    "anonymous": "Khách", "researcher": "Nhà nghiên cứu", "editor": "Biên tập viên",
    "archivist": "Lưu trữ viên", "administrator": "Quản trị viên",
}
MODE_LABELS = {"public": "Công khai", "conditional": "Sử dụng có điều kiện", "secret": "Mật"}


@dataclass(frozen=True)
class User:
    """A caller. ``id`` is None for an anonymous visitor."""

    id: int | None
    username: str
    role: str
    fonds: tuple[str, ...] = ()     # archivists: the fonds codes they look after
    groups: tuple[str, ...] = ()
    display_name: str = ""

    @property
    def is_anonymous(self) -> bool:
        return self.id is None or self.role == "anonymous"

    @property
    def is_admin(self) -> bool:
        return self.role == "administrator" and not self.is_anonymous


ANONYMOUS = User(id=None, username="", role="anonymous")


@dataclass(frozen=True)
class Grant:
    """Permission to read one conditional document, for a user or a group."""

    document_id: int
    username: str | None = None
    group: str | None = None
    expires_at: datetime | None = None   # naive UTC; None: no expiry
    revoked: bool = False

    def applies_to(self, user: User, now: datetime) -> bool:
        if self.revoked or user.is_anonymous:
            return False
        if self.expires_at is not None and self.expires_at <= now:
            return False
        return (self.username is not None and self.username == user.username) or \
               (self.group is not None and self.group in user.groups)


@dataclass(frozen=True)
class AccessFilter:
    """What one caller may see, carried by every search and catalog read.

    A document is visible when its mode is in ``modes``, or it is conditional
    and its id is in ``granted_ids``, or it belongs to a fonds in ``fonds``.
    Frozen and hashable, so caches can be kept per filter.
    """

    modes: tuple[str, ...] = ("public",)
    granted_ids: tuple[int, ...] = ()        # conditional documents only
    fonds: tuple[str, ...] = ()              # fonds codes where every mode is visible

    @property
    def sees_nothing(self) -> bool:
        return not self.modes and not self.granted_ids and not self.fonds

    @property
    def sees_everything(self) -> bool:
        return set(MODES) <= set(self.modes)

    def allows(self, document_id: int, fonds: str, mode: str) -> bool:
        """The rule itself, for one document (tests and single checks)."""
        return (mode in self.modes
                or (mode == "conditional" and document_id in self.granted_ids)
                or fonds in self.fonds)


NOTHING = AccessFilter(modes=())
PUBLIC = AccessFilter(modes=("public",))


def access_filter(user: User, grants: Iterable[Grant], now: datetime, *,
                  public_access: bool = True) -> AccessFilter:
    """THE function: the access filter of ``user`` at ``now``.

    ``grants`` may hold any grants (other users', expired, revoked): only those
    that apply to ``user`` at ``now`` count. An unknown role sees what an
    anonymous visitor sees, so a typo never widens access.
    """
    if user.role == "administrator" and not user.is_anonymous:
        return AccessFilter(modes=MODES)
    if user.is_anonymous or user.role not in ACCOUNT_ROLES:
        return PUBLIC if public_access else NOTHING
    granted = tuple(sorted({g.document_id for g in grants if g.applies_to(user, now)}))
    fonds = tuple(sorted(set(user.fonds))) if user.role == "archivist" else ()
    return AccessFilter(modes=("public",), granted_ids=granted, fonds=fonds)


def can_manage_users(user: User) -> bool:
    return user.is_admin


def can_read_audit(user: User) -> bool:
    return user.is_admin


@dataclass(frozen=True)
class Declassification:
    document_id: int
    on: date


def declassify_due(items: Iterable[Declassification], today: date) -> list[int]:
    """Documents whose declassification date has come (on or before ``today``)."""
    return sorted({d.document_id for d in items if d.on <= today})


MIN_PASSWORD_CHARS = 10
_DUMMY_HASH: list[str] = []


def _hasher():   # argon2id with the library's defaults (RFC 9106 low-memory profile)
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted; the salt is in the string)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``. With no stored hash (unknown
    user) a dummy hash is still checked, so timing does not tell which
    usernames exist."""
    from argon2.exceptions import InvalidHashError, VerificationError

    if not stored:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(_hasher().hash("kholuu-dummy-password"))
        stored, password = _DUMMY_HASH[0], password + "\x00never"
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def parse_role(value: str) -> str:
    """A role name from the command line; raises ValueError naming the choices."""
    role = value.strip().lower()
    if role not in ACCOUNT_ROLES:
        raise ValueError(f"unknown role {value!r}: expected one of {', '.join(ACCOUNT_ROLES)}")
    return role


__all__ = ["User", "Grant", "AccessFilter", "ANONYMOUS", "NOTHING", "PUBLIC", "MODES", "ROLES",
           "ACCOUNT_ROLES", "access_filter", "declassify_due", "Declassification", "parse_role",
           "can_manage_users", "can_read_audit", "ROLE_LABELS", "MODE_LABELS", "hash_password",
           "verify_password", "MIN_PASSWORD_CHARS"]
