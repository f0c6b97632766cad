"""Users, grants, sessions, declassification dates and the audit log, in the catalog.

New tables only (created by ``Catalog`` like the others); the rules about who
sees what live in ``kholuu.access``, this module only stores and reads.

The audit table is append-only: the store has no method that changes or
deletes an entry, and the database refuses UPDATE and DELETE on it (a trigger
on SQLite, rules on PostgreSQL), so not even a bug can rewrite history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Sequence

from sqlalchemy import (JSON, Boolean, Date, DateTime, DDL, ForeignKey, Index, String, Text,
                        event, func, or_, select)
from sqlalchemy.orm import Mapped, mapped_column

from kholuu.access import Declassification, Grant, User
from kholuu.catalog.schema import ArchiveFileRow, Base, DocumentRow, FondsRow, utcnow
from kholuu.errors import CatalogError

USERNAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789._-@"


class UserRow(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)   # None: external login only
    role: Mapped[str] = mapped_column(String(16))
    fonds: Mapped[list] = mapped_column(JSON, default=list)      # archivists: fonds codes
    groups: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class GrantRow(Base):
    """A conditional document opened to one user or one group, until ``expires_at``."""

    __tablename__ = "access_grant"
    __table_args__ = (Index("ix_grant_user", "username"), Index("ix_grant_group", "group_name"))
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    group_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class SessionRow(Base):
    """A logged-in browser: the cookie holds a random token, the table its hash."""

    __tablename__ = "web_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class DeclassificationRow(Base):
    """The day a restricted document becomes public."""

    __tablename__ = "declassification"
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), primary_key=True)
    declassify_on: Mapped[date] = mapped_column(Date)
    set_by: Mapped[str] = mapped_column(String(64), default="")
    set_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class FileAccessRow(Base):
    """The access mode new documents of a file (hồ sơ) start with, when it has one."""

    __tablename__ = "file_access_default"
    file_id: Mapped[int] = mapped_column(ForeignKey("archive_file.id", ondelete="CASCADE"), primary_key=True)
    default_access: Mapped[str] = mapped_column(String(16))


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_at", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))          # username, "anonymous" or "cli"
    action: Mapped[str] = mapped_column(String(32))         # search, open, download, login, grant, ...
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str] = mapped_column(String(64), default="")


for _op in ("UPDATE", "DELETE"):
    event.listen(AuditRow.__table__, "after_create", DDL(
        f"CREATE TRIGGER audit_log_no_{_op.lower()} BEFORE {_op} ON audit_log "
        f"BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END").execute_if(dialect="sqlite"))
    event.listen(AuditRow.__table__, "after_create", DDL(
        f"CREATE RULE audit_log_no_{_op.lower()} AS ON {_op} TO audit_log DO INSTEAD NOTHING"
    ).execute_if(dialect="postgresql"))


@dataclass
class UserInfo:
    id: int
    username: str
    display_name: str
    role: str
    fonds: list[str]
    groups: list[str]
    active: bool
    created_at: datetime


@dataclass
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: str
    ip: str


def _user(row: UserRow) -> User:
    return User(id=row.id, username=row.username, role=row.role, fonds=tuple(row.fonds or ()),
                groups=tuple(row.groups or ()), display_name=row.display_name or "")


def check_username(name: str) -> str:
    name = name.strip().lower()
    if not 2 <= len(name) <= 64 or any(c not in USERNAME_CHARS for c in name):
        raise CatalogError(f"username {name!r}: use 2-64 letters a-z, digits, '.', '_', '-' or '@'")
    return name


class AccessStore:
    """Reads and writes of the access tables. Every change is written to the audit log."""

    def __init__(self, catalog: Any):
        self.catalog = catalog

    # -- users ----------------------------------------------------------------
    def add_user(self, username: str, role: str, password_hash: str | None, *, fonds: Sequence[str] = (),
                 groups: Sequence[str] = (), display_name: str = "", actor: str = "cli") -> int:
        username = check_username(username)
        with self.catalog.session() as s:
            if s.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
                raise CatalogError(f"user {username!r} already exists")
            known = set(s.scalars(select(FondsRow.code)))
            unknown = [f for f in fonds if f not in known]
            if unknown:
                raise CatalogError(f"unknown fonds {', '.join(unknown)} (see `kholuu fonds list`)")
            row = UserRow(username=username, role=role, password_hash=password_hash, fonds=sorted(set(fonds)),
                          groups=sorted({g.strip() for g in groups if g.strip()}), display_name=display_name)
            s.add(row)
            s.flush()
            self._audit(s, actor, "user_add", username,
                        f"role={role} fonds={','.join(row.fonds)} groups={','.join(row.groups)}")
            return row.id

    def set_active(self, username: str, active: bool, *, actor: str = "cli") -> None:
        with self.catalog.session() as s:
            row = s.scalar(select(UserRow).where(UserRow.username == username))
            if row is None:
                raise CatalogError(f"unknown user {username!r} (see `kholuu user list`)")
            row.active = active
            if not active:
                for sess in s.scalars(select(SessionRow).where(SessionRow.user_id == row.id)):
                    s.delete(sess)
            self._audit(s, actor, "user_enable" if active else "user_disable", username, "")

    def login_record(self, username: str) -> tuple[User, str | None] | None:
        """The active user named ``username`` and their password hash, or None."""
        with self.catalog.session() as s:
            row = s.scalar(select(UserRow).where(UserRow.username == username.strip().lower(),
                                                 UserRow.active.is_(True)))
            return (_user(row), row.password_hash) if row else None

    def users(self) -> list[UserInfo]:
        with self.catalog.session() as s:
            return [UserInfo(id=r.id, username=r.username, display_name=r.display_name, role=r.role,
                             fonds=list(r.fonds or []), groups=list(r.groups or []), active=r.active,
                             created_at=r.created_at)
                    for r in s.scalars(select(UserRow).order_by(UserRow.username))]

    # -- grants ---------------------------------------------------------------
    def grant(self, document_id: int, *, username: str | None = None, group: str | None = None,
              expires_at: datetime | None = None, actor: str = "cli") -> int:
        """Open a conditional document to a user or a group. Refuses other modes:
        public needs no grant, and a secret document is never opened by a grant."""
        if (username is None) == (group is None):
            raise CatalogError("a grant names either a user or a group")
        with self.catalog.session() as s:
            doc = s.get(DocumentRow, document_id)
            if doc is None:
                raise CatalogError(f"unknown document id {document_id}")
            if doc.access_mode != "conditional":
                raise CatalogError(f"document {document_id} is {doc.access_mode}: only conditional "
                                   "documents can be granted")
            if username is not None:
                username = check_username(username)
                if s.scalar(select(UserRow.id).where(UserRow.username == username)) is None:
                    raise CatalogError(f"unknown user {username!r} (see `kholuu user list`)")
            row = GrantRow(document_id=document_id, username=username, group_name=group,
                           expires_at=expires_at, created_by=actor)
            s.add(row)
            s.flush()
            self._audit(s, actor, "grant", f"document {document_id}",
                        f"{'user ' + username if username else 'group ' + str(group)}"
                        f" until {expires_at.isoformat(sep=' ') if expires_at else 'no expiry'}")
            return row.id

    def revoke(self, document_id: int, *, username: str | None = None, group: str | None = None,
               actor: str = "cli") -> int:
        """Revoke the live grants of a document to a user or group. Returns how many."""
        now = utcnow()
        with self.catalog.session() as s:
            q = select(GrantRow).where(GrantRow.document_id == document_id, GrantRow.revoked_at.is_(None))
            q = q.where(GrantRow.username == username) if username is not None else \
                q.where(GrantRow.group_name == group)
            rows = list(s.scalars(q))
            for r in rows:
                r.revoked_at = now
            self._audit(s, actor, "revoke", f"document {document_id}",
                        f"{'user ' + str(username) if username else 'group ' + str(group)}: {len(rows)} grant(s)")
            return len(rows)

    def grants_for(self, user: User) -> list[Grant]:
        """The live (unrevoked) grants naming the user or one of their groups."""
        if user.is_anonymous:
            return []
        with self.catalog.session() as s:
            conds = [GrantRow.username == user.username]
            if user.groups:
                conds.append(GrantRow.group_name.in_(list(user.groups)))
            rows = s.scalars(select(GrantRow).where(GrantRow.revoked_at.is_(None), or_(*conds)))
            return [Grant(document_id=r.document_id, username=r.username, group=r.group_name,
                          expires_at=r.expires_at) for r in rows]

    def all_grants(self) -> list[GrantRow]:
        with self.catalog.session() as s:
            return list(s.scalars(select(GrantRow).order_by(GrantRow.id)))

    # -- sessions -------------------------------------------------------------
    def create_session(self, user_id: int, token_hash: str, expires_at: datetime) -> None:
        """A new session; expired ones are swept away here (logins are rare enough)."""
        with self.catalog.session() as s:
            for old in s.scalars(select(SessionRow).where(SessionRow.expires_at <= utcnow())):
                s.delete(old)
            s.add(SessionRow(token_hash=token_hash, user_id=user_id, expires_at=expires_at))

    def session_user(self, token_hash: str, now: datetime) -> User | None:
        with self.catalog.session() as s:
            row = s.get(SessionRow, token_hash)
            if row is None or row.expires_at <= now:
                return None
            user = s.get(UserRow, row.user_id)
            return _user(user) if user is not None and user.active else None

    def end_session(self, token_hash: str) -> None:
        with self.catalog.session() as s:
            row = s.get(SessionRow, token_hash)
            if row is not None:
                s.delete(row)

    # -- fonds defaults ---------------------------------------------------------
    def set_fonds_default(self, code: str, mode: str, *, actor: str = "cli") -> str:
        """The mode new documents of a fonds start with. Returns the previous one."""
        from kholuu.access import MODES

        if mode not in MODES:
            raise CatalogError(f"unknown access mode {mode!r}: expected one of {', '.join(MODES)}")
        with self.catalog.session() as s:
            fonds = s.scalar(select(FondsRow).where(FondsRow.code == code))
            if fonds is None:
                raise CatalogError(f"unknown fonds {code!r} (see `kholuu fonds list`)")
            before, fonds.default_access = fonds.default_access, mode
            self._audit(s, actor, "fonds_default", f"fonds {code}", f"{before} → {mode}")
            return before

    def set_file_default(self, fonds: str, register: str, number: str, mode: str, *, actor: str = "cli") -> None:
        """The mode new documents of one file (hồ sơ) start with; it wins over the fonds default."""
        from kholuu.access import MODES

        if mode not in MODES:
            raise CatalogError(f"unknown access mode {mode!r}: expected one of {', '.join(MODES)}")
        with self.catalog.session() as s:
            f = s.scalar(select(ArchiveFileRow).join(FondsRow, ArchiveFileRow.fonds_id == FondsRow.id).where(
                FondsRow.code == fonds, ArchiveFileRow.register == register, ArchiveFileRow.number == number))
            if f is None:
                raise CatalogError(f"unknown file: fonds {fonds}, register {register}, file {number}")
            row = s.get(FileAccessRow, f.id)
            if row is None:
                row = FileAccessRow(file_id=f.id, default_access=mode)
                s.add(row)
            row.default_access = mode
            self._audit(s, actor, "file_default", f"fonds {fonds} register {register} file {number}", mode)

    # -- declassification -----------------------------------------------------
    def set_declassification(self, document_id: int, on: date, *, actor: str = "cli") -> None:
        with self.catalog.session() as s:
            if s.get(DocumentRow, document_id) is None:
                raise CatalogError(f"unknown document id {document_id}")
            row = s.get(DeclassificationRow, document_id)
            if row is None:
                row = DeclassificationRow(document_id=document_id)
                s.add(row)
            row.declassify_on, row.set_by, row.set_at, row.applied_at = on, actor, utcnow(), None
            self._audit(s, actor, "declassify_date", f"document {document_id}", f"public from {on.isoformat()}")

    def declassifications(self, document_ids: Sequence[int] | None = None) -> list[Declassification]:
        with self.catalog.session() as s:
            q = select(DeclassificationRow)
            if document_ids is not None:
                q = q.where(DeclassificationRow.document_id.in_(list(document_ids)))
            return [Declassification(document_id=r.document_id, on=r.declassify_on) for r in s.scalars(q)]

    def make_public(self, document_ids: Sequence[int], *, actor: str = "system") -> list[int]:
        """Set the documents public (their declassification date came); returns the changed ids."""
        changed = []
        with self.catalog.session() as s:
            for doc in s.scalars(select(DocumentRow).where(DocumentRow.id.in_(list(document_ids)))):
                if doc.access_mode != "public":
                    self._audit(s, actor, "declassified", f"document {doc.id}", f"{doc.access_mode} → public")
                    doc.access_mode = "public"
                    changed.append(doc.id)
                row = s.get(DeclassificationRow, doc.id)
                if row is not None and row.applied_at is None:
                    row.applied_at = utcnow()
        return sorted(changed)

    # -- audit ----------------------------------------------------------------
    @staticmethod
    def _audit(s: Any, actor: str, action: str, target: str, detail: str, ip: str = "") -> None:
        s.add(AuditRow(actor=(actor or "anonymous")[:64], action=action[:32], target=target[:200],
                       detail=detail[:2000], ip=ip[:64]))

    def audit(self, actor: str, action: str, target: str = "", detail: str = "", ip: str = "") -> None:
        with self.catalog.session() as s:
            self._audit(s, actor, action, target, detail, ip)

    def audit_entries(self, *, limit: int = 200, offset: int = 0, action: str | None = None) -> list[AuditEntry]:
        with self.catalog.session() as s:
            q = select(AuditRow)
            if action:
                q = q.where(AuditRow.action == action)
            rows = s.scalars(q.order_by(AuditRow.id.desc()).limit(limit).offset(offset))
            return [AuditEntry(id=r.id, at=r.at, actor=r.actor, action=r.action, target=r.target,
                               detail=r.detail, ip=r.ip) for r in rows]

    def audit_count(self) -> int:
        with self.catalog.session() as s:
            return s.scalar(select(func.count()).select_from(AuditRow)) or 0


__all__ = ["AccessStore", "FileAccessRow", "UserRow", "GrantRow", "SessionRow", "DeclassificationRow", "AuditRow",
           "UserInfo", "AuditEntry", "check_username"]
