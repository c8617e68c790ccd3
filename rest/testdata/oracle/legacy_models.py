"""The legacy FastAPI app's request bodies, as pydantic 2 models.

The field names, types and the password rule are the legacy app's
(fastapi-task-manager README: register, login, create-task, update-task,
update-user). The length limits on username, title and description are
taskapi's documented limits (README "What values are accepted"; the legacy
app had none): they are written here as pydantic constraints so that
pydantic itself says how a limit is reported, and the oracle checks that
taskapi reports it the same way.

email-validator is not installed here (and there is no PyPI), so EmailStr
cannot be used. email_str mimics it: pydantic's EmailStr is a str followed
by an after-validator that raises
PydanticCustomError('value_error', 'value is not a valid email address:
{reason}', {'reason': ...}) with email-validator's reason. The mimic raises
the same error for a few plain syntax problems. Where its reason is known
to be email-validator 2's (UNVERIFIED not in it), the oracle test compares
it; the others start with UNVERIFIED and the test leaves their reason text
out of the comparison (an entry of its transforms table).
"""

from enum import Enum
from typing import Annotated, Optional

from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

# The legacy rule, in the legacy app's words (core.PasswordRule).
PASSWORD_RULE = "Password must be 6-15 characters long and contain at least one special character"


def legacy_password(v: str) -> str:
    """Legacy README: "string(length 6-15, special chars included)"."""
    special = any(not c.isalnum() and not c.isspace() and c.isprintable() for c in v)
    if not 6 <= len(v) <= 15 or not special:
        raise ValueError(PASSWORD_RULE)
    return v


UNVERIFIED = "(unverified) "


def email_str(v: str) -> str:
    """A stand-in for pydantic's EmailStr (see the module's docstring)."""
    reason = None
    local, _, domain = v.rpartition("@")
    if "@" not in v:
        # pydantic 2's own documentation (Models, "Validating data") shows
        # 'not-an-email-address' refused with this reason.
        reason = "An email address must have an @-sign."
        if v == "" or any(c.isspace() for c in v):
            reason = UNVERIFIED + reason
    elif v.count("@") > 1 or any(c.isspace() for c in v):
        reason = UNVERIFIED + "The email address contains invalid characters before the @-sign: '@'."
    elif local == "":
        # email_validator/syntax.py, validate_email_local_part.
        reason = "There must be something before the @-sign."
    elif domain == "":
        reason = UNVERIFIED + "There must be something after the @-sign."
    elif "." not in domain:
        # email_validator/syntax.py, the globally_deliverable check.
        reason = "The part after the @-sign is not valid. It should have a period."
    elif domain.startswith(".") or domain.endswith("."):
        reason = UNVERIFIED + "An email address cannot end with a period."
    if reason is not None:
        raise PydanticCustomError(
            "value_error", "value is not a valid email address: {reason}", {"reason": reason}
        )
    return v


Email = Annotated[str, AfterValidator(email_str)]
Password = Annotated[str, AfterValidator(legacy_password)]
Username = Annotated[str, Field(min_length=1, max_length=50)]
Title = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]


class Role(str, Enum):
    user = "user"
    admin = "admin"


class ActivationStatus(str, Enum):
    active = "active"
    inactive = "inactive"


class TaskStatus(str, Enum):
    pending = "pending"
    ongoing = "ongoing"
    complete = "complete"


class RegisterRequest(BaseModel):
    username: Username
    email: Email
    password: Password
    role: Optional[Role] = None
    activation_status: Optional[ActivationStatus] = None


class LoginRequest(BaseModel):
    email: str
    password: str


class CreateTaskRequest(BaseModel):
    title: Title
    description: Optional[Description] = ""


class UpdateTaskRequest(BaseModel):
    status: TaskStatus


class UpdateUserRequest(BaseModel):
    username: Optional[Username] = None
    email: Optional[Email] = None
    password: Optional[Password] = None
    activation_status: Optional[ActivationStatus] = None
    # Not in the legacy README's body; taskapi accepts it (docs/rest.md, Decisions).
    role: Optional[Role] = None


MODELS = {
    "register": RegisterRequest,
    "login": LoginRequest,
    "create-task": CreateTaskRequest,
    "update-task": UpdateTaskRequest,
    "update-user": UpdateUserRequest,
}
