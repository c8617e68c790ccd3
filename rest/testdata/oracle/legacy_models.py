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
the same error for a few plain syntax problems; its reasons are not
email-validator's, so the oracle test does not compare the reason text
(an entry of its exceptions table).
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


def email_str(v: str) -> str:
    """A stand-in for pydantic's EmailStr (see the module's docstring)."""
    reason = None
    local, at, domain = v.rpartition("@")
    if v == "":
        reason = "An email address cannot be empty."
    elif v.count("@") != 1:
        reason = "An email address must have exactly one @-sign."
    elif local == "":
        reason = "There must be something before the @-sign."
    elif any(c.isspace() for c in v):
        reason = "The email address contains invalid characters."
    elif "." not in domain or domain.startswith(".") or domain.endswith("."):
        reason = "The part after the @-sign is not valid. It should have a period."
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
