"""What FastAPI (with pydantic 2) answers to each request of a corpus.

Usage: python3 fastapi_oracle.py corpus.json  →  a JSON array on stdout, one
{"name", "status", "body"} per entry: body is the response body FastAPI
would send, as a string (null when the body validates: the endpoint runs).

It follows fastapi.routing.get_request_handler and
fastapi.dependencies.utils.request_body_to_args (FastAPI 0.100+), which are
not installed here:
- the body is read as JSON (json.loads of the bytes) when there is no
  Content-Type or its main type is application and its subtype json or
  *+json (read with email.message, as FastAPI does); otherwise the raw bytes
  are what the model gets;
- json.JSONDecodeError → 422 json_invalid at ("body", e.pos) with e.msg;
  any other failure reading it (not UTF-8) → 400;
- no body, or JSON null → 422 missing at ("body",);
- otherwise the model is validated as FastAPI's ModelField.validate does
  (TypeAdapter.validate_python, from_attributes=True), each error's loc
  prefixed with "body", errors(include_url=False);
- the answer is {"detail": jsonable_encoder(errors)}, encoded as
  Starlette's JSONResponse does (a value it cannot encode, such as NaN or a
  lone surrogate, makes FastAPI answer 500).
"""

import base64
import email.message
import enum
import json
import sys

import pydantic
from pydantic import TypeAdapter, ValidationError

from legacy_models import MODELS

ADAPTERS = {name: TypeAdapter(m) for name, m in MODELS.items()}


def jsonable(v):
    """fastapi.encoders.jsonable_encoder, for what an error list holds."""
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, enum.Enum):
        return jsonable(v.value)
    if isinstance(v, bytes):
        return v.decode()
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    # An exception (a validator's ValueError in ctx.error): dict(e) fails,
    # vars(e) is {}.
    return {k: jsonable(x) for k, x in vars(v).items()}


def render(content):
    """starlette.responses.JSONResponse.render."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")


def answer(endpoint, body, content_type):
    undefined = object()
    try:
        value = None
        if body:
            json_body = undefined
            if content_type is None:
                json_body = json.loads(body)
            else:
                m = email.message.Message()
                m["content-type"] = content_type
                if m.get_content_maintype() == "application":
                    sub = m.get_content_subtype()
                    if sub == "json" or sub.endswith("+json"):
                        json_body = json.loads(body)
            value = body if json_body is undefined else json_body
    except json.JSONDecodeError as e:
        return 422, {"detail": [{"type": "json_invalid", "loc": ["body", e.pos], "msg": "JSON decode error", "input": {}, "ctx": {"error": e.msg}}]}
    except Exception:
        return 400, {"detail": "There was an error parsing the body"}
    if value is None:
        return 422, {"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]}
    try:
        ADAPTERS[endpoint].validate_python(value, from_attributes=True)
    except ValidationError as exc:
        errs = []
        for e in exc.errors(include_url=False):
            e = dict(e)
            e["loc"] = ("body",) + tuple(e["loc"])
            errs.append(e)
        return 422, {"detail": jsonable(errs)}
    return 200, None


def main():
    if not pydantic.VERSION.startswith("2."):
        sys.exit("pydantic 2 is required, found " + pydantic.VERSION)
    with open(sys.argv[1], encoding="utf-8") as f:
        corpus = json.load(f)
    out = []
    for c in corpus:
        if "body_b64" in c:
            body = base64.b64decode(c["body_b64"])
        else:
            body = c.get("body", "").encode("utf-8", "surrogatepass")
        ct = c.get("content_type", "application/json")
        status, content = answer(c["endpoint"], body, None if ct == "-" else ct)
        text = None
        if content is not None:
            try:
                text = render(content).decode("utf-8")
            except (ValueError, UnicodeEncodeError):
                status, text = 500, None
        out.append({"name": c["name"], "status": status, "body": text})
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
