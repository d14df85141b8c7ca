"""Account administration (administrator) and key grants (department heads, coordinators)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from accounts import admin as accounts
from accounts.auth import LoginError
from models import Department, DepartmentGrant, StaffUser
from portal import get_db, state
from portal.staff_session import staff, staff_required

bp = Blueprint("admin", __name__, url_prefix="/staff/admin")


def _users_page(errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                created: tuple[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    db = get_db()
    users = list(db.scalars(select(StaffUser).order_by(StaffUser.id)))
    granted = {(g.user_id) for g in db.scalars(select(DepartmentGrant))}
    departments = list(db.scalars(select(Department).order_by(Department.id)))
    return render_template("staff/admin_users.html", users=users, granted=granted, departments=departments,
                           roles=accounts.ROLES, errors=errors or {}, values=values or {}, created=created,
                           me=staff()), status


@bp.get("/users")
@staff_required("admin")
def users() -> tuple[str, int]:
    return _users_page()


@bp.post("/users")
@staff_required("admin")
def create_user() -> tuple[str, int]:
    f = request.form
    try:
        user, password = accounts.create_account(get_db(), state().audit_key, staff(), username=f.get("username", ""),
                                                 role=f.get("role", ""), display_name=f.get("display_name", ""),
                                                 department_code=f.get("department") or None)
    except LoginError as exc:
        get_db().rollback()
        return _users_page({exc.field or "form": exc.message}, f.to_dict(), status=400)
    return _users_page(created=(user.username, password))


@bp.post("/users/<int:user_id>/reset")
@staff_required("admin")
def reset(user_id: int) -> tuple[str, int]:
    try:
        password = accounts.reset_password(get_db(), state().audit_key, staff(), user_id)
    except LoginError as exc:
        return _users_page({"form": exc.message}, status=400)
    user = get_db().get(StaffUser, user_id)
    assert user is not None
    return _users_page(created=(user.username, password))


@bp.post("/users/<int:user_id>/active")
@staff_required("admin")
def set_active(user_id: int) -> Response | tuple[str, int]:
    try:
        accounts.set_active(get_db(), state().audit_key, staff(), user_id, request.form.get("active") == "1")
    except LoginError as exc:
        return _users_page({"form": exc.message}, status=400)
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/custodian")
@staff_required("admin")
def set_custodian(user_id: int) -> Response | tuple[str, int]:
    try:
        accounts.set_custodian(get_db(), state().audit_key, staff(), user_id, request.form.get("custodian") == "1")
    except LoginError as exc:
        return _users_page({"form": exc.message}, status=400)
    return redirect(url_for("admin.users"))


@bp.get("/members")
@staff_required(*accounts.KEYHOLDER_ROLES)
def members() -> str:
    return render_template("staff/members.html", members=accounts.members_without_key(get_db(), staff()), me=staff())


@bp.post("/members/<int:user_id>/grant")
@staff_required(*accounts.KEYHOLDER_ROLES)
def grant(user_id: int) -> Response:
    try:
        accounts.grant_key(get_db(), state().audit_key, staff(), user_id)
        flash("已授予部门密钥。")
    except LoginError as exc:
        get_db().rollback()
        flash(exc.message)
    return redirect(url_for("admin.members"))
