"""``kholuu user add|grant|revoke|list|disable|enable|declassify|fonds-default|file-default``: accounts and access.

Every change is written to the audit log with the actor ``cli``. Passwords are
never taken as an argument (they would stay in the shell history and in
``ps``): they are typed twice at a prompt, or read from standard input with
``--password-stdin`` for scripts.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import date, datetime, time, timedelta

from typing import TYPE_CHECKING, Any

from kholuu.access import ROLE_LABELS, hash_password, parse_role
from kholuu.errors import KholuuError

if TYPE_CHECKING:
    from kholuu.settings import Settings

ACTOR = "cli"


class UserCommandError(KholuuError):
    """A ``kholuu user`` command was given something it cannot use."""


def _store(settings: Settings) -> tuple[Any, Any]:
    """The catalog and its access store (imported here: ``kholuu --help`` stays fast)."""
    from kholuu.catalog import Catalog
    from kholuu.catalog.users import AccessStore

    catalog = Catalog(settings.database_url)
    catalog.ensure_fonds_loaded()
    return catalog, AccessStore(catalog)


def _day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserCommandError(f"{what} {value!r}: expected a date YYYY-MM-DD") from None


def _read_password(args: argparse.Namespace) -> str:
    if getattr(args, "password_stdin", False):
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise UserCommandError("no terminal to ask for a password: use --password-stdin")
        password = getpass.getpass("Mật khẩu: ")
        if getpass.getpass("Nhập lại mật khẩu: ") != password:
            raise UserCommandError("the two passwords differ")
    try:
        return hash_password(password)
    except ValueError as exc:
        raise UserCommandError(str(exc)) from None


def run_user_add(args: argparse.Namespace, settings: Settings) -> int:
    try:
        role = parse_role(args.role)
    except ValueError as exc:
        raise UserCommandError(str(exc)) from None
    fonds = [f.strip() for item in (args.fonds or []) for f in item.split(",") if f.strip()]
    if fonds and role != "archivist":
        raise UserCommandError("--fonds is for archivists (they see every document of their fonds)")
    if role == "archivist" and not fonds:
        raise UserCommandError("an archivist needs --fonds CODE (the fonds they look after)")
    groups = [g.strip() for item in (args.group or []) for g in item.split(",") if g.strip()]
    password_hash = _read_password(args)
    catalog, store = _store(settings)
    try:
        store.add_user(args.username, role, password_hash, fonds=fonds, groups=groups,
                       display_name=args.name or "", actor=ACTOR)
    finally:
        catalog.dispose()
    print(f"Đã thêm người dùng {args.username.strip().lower()} ({ROLE_LABELS[role]})")
    return 0


def _set_active(args: argparse.Namespace, settings: Settings, active: bool) -> int:
    catalog, store = _store(settings)
    try:
        store.set_active(args.username.strip().lower(), active, actor=ACTOR)
    finally:
        catalog.dispose()
    print(f"{'Đã mở khóa' if active else 'Đã khóa'} người dùng {args.username}")
    return 0


def run_user_disable(args: argparse.Namespace, settings: Settings) -> int:
    return _set_active(args, settings, False)


def run_user_enable(args: argparse.Namespace, settings: Settings) -> int:
    return _set_active(args, settings, True)


def _grantee(args: argparse.Namespace) -> tuple[str | None, str | None]:
    if bool(args.user) == bool(args.group):
        raise UserCommandError("name either --user USERNAME or --group GROUP")
    return (args.user.strip().lower() if args.user else None), (args.group.strip() if args.group else None)


def run_user_grant(args: argparse.Namespace, settings: Settings) -> int:
    username, group = _grantee(args)
    expires: datetime | None = None
    if args.until and args.days:
        raise UserCommandError("give --until or --days, not both")
    if args.until:
        # valid through the whole day named (midnight after it, UTC)
        expires = datetime.combine(_day(args.until, "--until") + timedelta(days=1), time())
    elif args.days:
        if args.days <= 0:
            raise UserCommandError("--days must be a positive number")
        expires = datetime.utcnow().replace(microsecond=0) + timedelta(days=args.days)
    if expires is not None and expires <= datetime.utcnow():
        raise UserCommandError(f"--until {args.until}: that day is already past")
    catalog, store = _store(settings)
    try:
        store.grant(args.document, username=username, group=group, expires_at=expires, actor=ACTOR)
    finally:
        catalog.dispose()
    who = f"người dùng {username}" if username else f"nhóm {group}"
    until = f" đến hết {args.until}" if args.until else (f" trong {args.days} ngày" if args.days else "")
    print(f"Đã cấp quyền xem văn bản {args.document} cho {who}{until}")
    return 0


def run_user_revoke(args: argparse.Namespace, settings: Settings) -> int:
    username, group = _grantee(args)
    catalog, store = _store(settings)
    try:
        n = store.revoke(args.document, username=username, group=group, actor=ACTOR)
    finally:
        catalog.dispose()
    if n == 0:
        raise UserCommandError(f"no live grant of document {args.document} to "
                               f"{'user ' + str(username) if username else 'group ' + str(group)}")
    print(f"Đã thu hồi {n} quyền xem văn bản {args.document}")
    return 0


def run_user_list(args: argparse.Namespace, settings: Settings) -> int:
    catalog, store = _store(settings)
    try:
        users = store.users()
        grants = [g for g in store.all_grants() if g.revoked_at is None]
    finally:
        catalog.dispose()
    if args.json:
        print(json.dumps({
            "users": [{"username": u.username, "name": u.display_name, "role": u.role, "fonds": u.fonds,
                       "groups": u.groups, "active": u.active} for u in users],
            "grants": [{"id": g.id, "document": g.document_id, "user": g.username, "group": g.group_name,
                        "expires_at": g.expires_at.isoformat() if g.expires_at else None} for g in grants],
        }, ensure_ascii=False, indent=2))
        return 0
    for u in users:
        extra = "".join([f" phông={','.join(u.fonds)}" if u.fonds else "",
                         f" nhóm={','.join(u.groups)}" if u.groups else "", "" if u.active else " (đã khóa)"])
        print(f"{u.username:20} {ROLE_LABELS.get(u.role, u.role)}{extra}")
    if grants:
        print("Quyền xem văn bản sử dụng có điều kiện:")
        for g in grants:
            who = f"người dùng {g.username}" if g.username else f"nhóm {g.group_name}"
            until = g.expires_at.strftime("%Y-%m-%d %H:%M UTC") if g.expires_at else "không hạn"
            print(f"  văn bản {g.document_id:<8} {who:30} đến {until}")
    return 0


def run_user_declassify(args: argparse.Namespace, settings: Settings) -> int:
    """Set the day a restricted document becomes public; applied at once if it has come."""
    on = _day(args.on, "--on")
    catalog, store = _store(settings)
    try:
        store.set_declassification(args.document, on, actor=ACTOR)
        changed: list[int] = []
        if on <= date.today():
            changed = store.make_public([args.document], actor=ACTOR)
            if changed:
                import indexing

                backend = indexing.open_backend(settings)
                try:
                    indexing.index_documents(catalog, backend, changed)
                finally:
                    backend.close()
    finally:
        catalog.dispose()
    if changed:
        print(f"Văn bản {args.document} đã được giải mật, công khai từ {on.isoformat()}")
    else:
        print(f"Văn bản {args.document} sẽ công khai từ ngày {on.isoformat()}")
    return 0


def run_user_fonds_default(args: argparse.Namespace, settings: Settings) -> int:
    """The access mode new documents of a fonds start with (existing ones keep theirs)."""
    catalog, store = _store(settings)
    try:
        before = store.set_fonds_default(args.fonds, args.mode.strip().lower(), actor=ACTOR)
    finally:
        catalog.dispose()
    print(f"Phông {args.fonds}: văn bản mới có chế độ {args.mode} (trước đây: {before}); "
          "văn bản đã có giữ nguyên chế độ")
    return 0


def run_user_file_default(args: argparse.Namespace, settings: Settings) -> int:
    """The access mode new documents of one file (hồ sơ) start with."""
    catalog, store = _store(settings)
    try:
        store.set_file_default(args.fonds, args.register, args.number, args.mode.strip().lower(), actor=ACTOR)
    finally:
        catalog.dispose()
    print(f"Hồ sơ {args.number} (phông {args.fonds}, mục lục {args.register}): văn bản mới có chế độ {args.mode}")
    return 0


def add_parser(sub: argparse._SubParsersAction, parser_class: type) -> None:
    """The ``kholuu user`` subcommands (called by ``kholuu.cli.build_parser``)."""
    c = sub.add_parser("user", help="users, roles and access grants")
    usub = c.add_subparsers(dest="user_command", metavar="ACTION", required=True, parser_class=parser_class)
    u = usub.add_parser("add", help="add a user (password asked twice, or --password-stdin)")
    u.add_argument("username", metavar="USERNAME")
    u.add_argument("--role", required=True, help="researcher, editor, archivist or administrator")
    u.add_argument("--fonds", action="append", metavar="CODE", help="archivists: fonds they look after")
    u.add_argument("--group", action="append", metavar="GROUP", help="groups the user belongs to")
    u.add_argument("--name", help="full name shown on the pages")
    u.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    u.set_defaults(handler="kholuu.users_cli:run_user_add")
    for name, verb in (("grant", "open a conditional document to a user or group"),
                       ("revoke", "revoke a user's or group's grants on a document")):
        g = usub.add_parser(name, help=verb)
        g.add_argument("document", type=int, metavar="DOCUMENT_ID")
        g.add_argument("--user", metavar="USERNAME")
        g.add_argument("--group", metavar="GROUP")
        if name == "grant":
            g.add_argument("--until", metavar="YYYY-MM-DD", help="last day of access")
            g.add_argument("--days", type=int, metavar="N", help="access for N days from now")
        g.set_defaults(handler=f"kholuu.users_cli:run_user_{name}")
    u = usub.add_parser("list", help="users and live grants")
    u.add_argument("--json", action="store_true")
    u.set_defaults(handler="kholuu.users_cli:run_user_list")
    for name in ("disable", "enable"):
        u = usub.add_parser(name, help=f"{name} a user (disabling ends their sessions)")
        u.add_argument("username", metavar="USERNAME")
        u.set_defaults(handler=f"kholuu.users_cli:run_user_{name}")
    u = usub.add_parser("fonds-default", help="the access mode new documents of a fonds start with")
    u.add_argument("fonds", metavar="CODE")
    u.add_argument("mode", metavar="MODE", help="public, conditional or secret")
    u.set_defaults(handler="kholuu.users_cli:run_user_fonds_default")
    u = usub.add_parser("file-default", help="the access mode new documents of one file (hồ sơ) start with")
    u.add_argument("fonds", metavar="FONDS")
    u.add_argument("register", metavar="REGISTER")
    u.add_argument("number", metavar="FILE")
    u.add_argument("mode", metavar="MODE", help="public, conditional or secret")
    u.set_defaults(handler="kholuu.users_cli:run_user_file_default")
    u = usub.add_parser("declassify", help="set the day a restricted document becomes public")
    u.add_argument("document", type=int, metavar="DOCUMENT_ID")
    u.add_argument("--on", required=True, metavar="YYYY-MM-DD")
    u.set_defaults(handler="kholuu.users_cli:run_user_declassify")
