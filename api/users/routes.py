"""/users: sign-up and its confirmation, the caller's profile, and administration."""

from __future__ import annotations

from typing import Any, ClassVar

from flask.views import MethodView
from flask_jwt_extended import jwt_required

from api import dependencies, rate_limits
from api.auth.recent_sign_in import require_recent_sign_in
from api.auth.schemas import EmailSchema
from api.auth.tokens import current_user_id, is_admin, require_admin
from api.problems import Forbidden, NotFound
from api.smorest import BEARER_AUTH, Blueprint
from api.users import service
from api.users.models import User
from api.users.schemas import (
    ConfirmSchema,
    SignUpSchema,
    UserListArgsSchema,
    UserPageSchema,
    UserPatchSchema,
    UserSchema,
)

blp = Blueprint("users", __name__, url_prefix="/users", description="Accounts and profiles")
ME = "me"


def _target(user_id: str) -> str:
    """Whose profile a request may touch: one's own, or anyone's for an admin.

    Another user's id answers 404 for non-admins, so ids cannot be probed.
    """
    caller = current_user_id()
    if user_id in (ME, caller):
        return caller
    if is_admin():
        return user_id
    raise NotFound(f"User {user_id} was not found")


@blp.route("")
class Users(MethodView):
    @blp.arguments(SignUpSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, description="An account with this email already exists")
    @rate_limits.per_client_address(blp, "sign-up")
    def post(self, body: dict[str, str]) -> User:
        """Create an account"""
        if dependencies.settings().require_email_verification:  # else no code is mailed
            rate_limits.spend_code_email_budgets(body["email"])
        return service.register(
            dependencies.identity(), body["email"], body["password"], body["name"]
        )

    @jwt_required()
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(UserListArgsSchema, location="query")
    @blp.response(200, UserPageSchema)
    @blp.alt_response(403, description="Caller is not an administrator")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List all users (administrators only)"""
        require_admin()
        cursors = dependencies.cursors()
        scope = {"list": "users"}
        page = service.list_users(
            limit=args["limit"], start_key=cursors.decode(args.get("cursor"), scope)
        )
        return {"items": page.items, "next_cursor": cursors.encode(page.last_key, scope)}


@blp.post("/confirm")
@blp.arguments(ConfirmSchema)
@blp.response(204)
@blp.alt_response(422, description="The code is wrong or has expired")
@rate_limits.per_client_address(blp, "confirm")
def confirm(body: dict[str, str]) -> None:
    """Confirm a new account with the code emailed at sign-up"""
    dependencies.identity().confirm(body["email"], body["code"])


@blp.post("/confirm/resend")
@blp.arguments(EmailSchema)
@blp.response(202)
@rate_limits.per_client_address(blp, "confirm-resend")
def resend_code(body: dict[str, str]) -> None:
    """Email a new sign-up code (the same answer whether or not the account exists)"""
    rate_limits.spend_code_email_budgets(body["email"])
    dependencies.identity().resend_code(body["email"])


@blp.route("/<user_id:user_id>")
class UserById(MethodView):
    decorators: ClassVar[list[Any]] = [jwt_required()]

    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, UserSchema)
    def get(self, user_id: str) -> User:
        """Get a profile (`me` for your own)"""
        return service.get_user(_target(user_id))

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(UserPatchSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(403, description="Only administrators may enable or disable accounts")
    def patch(self, body: dict[str, Any], user_id: str) -> User:
        """Rename a profile; administrators also enable or disable accounts"""
        target = _target(user_id)
        if "enabled" in body and not is_admin():
            raise Forbidden("Only administrators may enable or disable accounts")
        return service.update(dependencies.identity(), target, body)

    @blp.doc(security=BEARER_AUTH)
    @blp.response(204)
    @blp.alt_response(202, description="Deletion begun, not finished: send the DELETE again")
    @blp.alt_response(
        401,
        description=(
            "Missing or invalid bearer token; or `urn:tasklake:problem:reauthentication-required`:"
            " the token's sign-in is older than REAUTHENTICATION_MAX_AGE_SECONDS (5 minutes),"
            " so sign in again (POST /auth/token) and retry; `WWW-Authenticate` carries"
            ' `error="insufficient_user_authentication"` and `max_age` (RFC 9470)'
        ),
    )
    def delete(self, user_id: str) -> tuple[str, int]:
        """Delete an account with all its tasks; every token of it stops working at once

        Beginning a deletion needs a recent sign-in (a stolen token alone cannot delete for
        good). Its earlier tokens still pass on this DELETE while the deletion is unfinished
        (202), so the account can finish deleting itself; once it answers 204 they are refused.
        """
        user = service.get_user(_target(user_id), being_deleted=True)
        if not user.deleting_since:
            require_recent_sign_in(dependencies.settings().reauthentication_max_age_seconds)
        if not service.delete_account(dependencies.identity(), user):
            return "", 202
        return "", 204
