"""Writes hongbao/client/_generated.py from the API's own OpenAPI document: one call per operation, sync and async.

    python -m hongbao.client.generate            # rewrite the file
    python -m hongbao.client.generate --check    # exit 1 if the file is not what the live schema gives

Replies are the API's own response models (`hongbao.api.schemas*`), imported, never copied: a model changed in the
API is the client's at once.  Path and query parameters and body fields become typed arguments (required ones
positional, optional ones keyword-only and left out when None); an operation that takes an `Idempotency-Key` is
*keyed*: the client makes the key once and keeps it across retries, so only those, and GETs, are retried after an
answer that may have done something.  tests/embed/test_client_complete.py checks the file against the live
schema, so an endpoint added to the API without regenerating fails the suite.
"""

from __future__ import annotations

import importlib
import keyword
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel

TARGET = Path(__file__).with_name("_generated.py")
REFERENCE = Path(__file__).resolve().parents[3] / "docs" / "client-reference.md"  # in a checkout of the repository
# Operations the clients answer with a hand-written method (see hongbao/client/__init__.py), and why.
HANDWRITTEN = {"conversations_events": "a Server-Sent Events stream: `events()` yields each event as it comes"}
MODEL_MODULES = (
    "hongbao.api.schemas", "hongbao.api.schemas_campaigns", "hongbao.api.schemas_hosts", "hongbao.api.schemas_open",
    "hongbao.api.schemas_relay", "hongbao.api.schemas_social", "hongbao.api.openapi",
)
REF = "#/components/schemas/"


def live_schema() -> dict[str, Any]:
    """The OpenAPI document of an app wired on a throwaway SQLite store (nothing is served)."""
    from hongbao.api.app import create_app
    from hongbao.bootstrap import build
    from hongbao.config import Settings

    with tempfile.TemporaryDirectory() as data_dir:
        hb = build(Settings(database_url=f"sqlite:///{data_dir}/schema.db", data_dir=Path(data_dir)))
        try:
            spec: dict[str, Any] = create_app(hb, scheduler=False).openapi()
        finally:
            hb.close()
    return spec


def model_classes() -> dict[str, tuple[str, str]]:
    """Response model name → (module, class name), for the classes the API defines in its schema modules."""
    found: dict[str, tuple[str, str]] = {}
    for name in MODEL_MODULES:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == name:
                found.setdefault(attr, (name, attr))
    return found


class Writer:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.models = model_classes()
        self.imports: dict[str, set[str]] = {}
        self.rows: list[str] = []  # the reference's table

    # ------------------------------------------------------------------ types

    def arg_type(self, schema: dict[str, Any]) -> str:
        """A parameter's or body field's Python type, from its JSON schema."""
        if "$ref" in schema:  # an enum is its values' type; an object a dict
            component = self.spec["components"]["schemas"][schema["$ref"].removeprefix(REF)]
            return "dict[str, Any]" if "properties" in component else self.arg_type(component)
        if "anyOf" in schema or "oneOf" in schema:
            parts = dict.fromkeys(self.arg_type(s) for s in schema.get("anyOf", schema.get("oneOf", [])))
            return " | ".join(sorted(parts, key=lambda p: p == "None"))
        kind = schema.get("type")
        if kind == "array":
            return f"list[{self.arg_type(schema.get('items', {}))}]"
        return {"integer": "int", "number": "float", "string": "str", "boolean": "bool", "null": "None",
                "object": "dict[str, Any]"}.get(str(kind), "Any")

    def reply_type(self, schema: dict[str, Any] | None) -> str:
        """A reply's Python type: the API's own model classes (imported), lists and unions of them."""
        if schema is None:
            return "None"
        if "$ref" in schema:
            name = schema["$ref"].removeprefix(REF)
            module, cls = self.models[re.sub(r"-(Input|Output)$", "", name)]
            self.imports.setdefault(module, set()).add(cls)
            return cls
        if "anyOf" in schema or "oneOf" in schema:
            parts = dict.fromkeys(self.reply_type(s) for s in schema.get("anyOf", schema.get("oneOf", [])))
            return " | ".join(sorted(parts, key=lambda p: p == "None"))
        if schema.get("type") == "array":
            return f"list[{self.reply_type(schema.get('items', {}))}]"
        return self.arg_type(schema)

    # ------------------------------------------------------------------ one operation

    def operation(self, method: str, path: str, op: dict[str, Any]) -> tuple[str, str, str]:
        """(the ops function, the sync method, the async method) of one operation."""
        op_id = op["operationId"]
        params = op.get("parameters", [])
        required: list[str] = []  # "name: type"
        optional: list[str] = []
        forward: list[str] = []  # how the methods pass each argument on
        path_expr = path
        query: list[tuple[str, str, bool]] = []  # (wire name, python name, required)
        headers: list[tuple[str, str]] = []
        keyed = False
        for p in params:
            name, where, schema = p["name"], p["in"], p.get("schema", {})
            if where == "header" and name.lower() == "idempotency-key":
                keyed = True
                continue
            py = _py_name(name)
            kind = self.arg_type(schema)
            if where == "path":
                required.append(f"{py}: {kind}")
                path_expr = path_expr.replace("{" + name + "}", "{_seg(" + py + ")}")
            elif p.get("required"):
                required.append(f"{py}: {kind}")
            else:
                optional.append(f"{py}: {_optional(kind)} = None")
            if where == "query":
                query.append((name, py, bool(p.get("required"))))
            elif where == "header":
                headers.append((name, py))
        body_expr = self._body(op, required, optional)
        if keyed:
            optional.append("idempotency_key: str | None = None")
        names = [a.split(":")[0] for a in required + optional]
        if len(set(names)) != len(names):
            raise SystemExit(f"{op_id}: two arguments share a name: {names}")
        forward = [n for n in names if n in {a.split(':')[0] for a in required}]
        forward += [f"{n}={n}" for n in names if n not in forward]
        status, content = _success(op)
        kind, reply = "json", "None"
        if content is not None:
            media, schema = content
            if media == "application/json":
                reply = self.reply_type(schema)
            elif schema.get("format") == "binary":
                kind, reply = "bytes", "bytes"
            else:
                kind, reply = "text", "str"
        model = "None" if kind != "json" or reply in ("None", "Any") else reply
        call_args = [repr(method.upper()), _fstring(path_expr), model]
        extra = []
        if body_expr != "None":
            extra.append(f"json={body_expr}")
        if query:
            fixed = ", ".join(f"{wire!r}: {py}" for wire, py, req in query if req)
            loose = ", ".join(f"{wire!r}: {py}" for wire, py, req in query if not req)
            extra.append("params={" + (fixed + ", " if fixed else "") + (f"**_set({{{loose}}})" if loose else "")
                         + "}")
        if headers:
            extra.append("headers=_set({" + ", ".join(f"{wire!r}: {py}" for wire, py in headers) + "})")
        if keyed:
            extra.append("keyed=True, idempotency_key=idempotency_key")
        if kind != "json":
            extra.append(f"kind={kind!r}")
        signature = ", ".join(required + (["*", *optional] if optional else []))
        doc = _doc(method, path, op, status, keyed)
        shown = ", ".join(a.split(":")[0] if ":" in a and "=" not in a else
                          (a.split(":")[0] + "=None" if "=" in a else a) for a in required + (["*", *optional]
                                                                                         if optional else []))
        self.rows.append(f"| `{op_id}({shown})` | `{method.upper()} {path}`{' (keyed)' if keyed else ''} | "
                         f"`{reply.replace('|', chr(92) + '|')}` | {_summary(op).replace('|', '/')} |")
        function = (
            f"def {op_id}({signature}) -> Call[{reply}]:\n"
            f"    {doc}\n"
            f"    return Call({', '.join(call_args + extra)})\n"
        )
        self_signature = ", ".join(["self", *required] + (["*", *optional] if optional else []))
        passed = ", ".join(forward)
        sync = (
            f"    def {op_id}({self_signature}) -> {reply}:\n"
            f"        {doc}\n"
            f"        return self.call({op_id}({passed}))\n"
        )
        asynchronous = (
            f"    async def {op_id}({self_signature}) -> {reply}:\n"
            f"        {doc}\n"
            f"        return await self.call({op_id}({passed}))\n"
        )
        return function, sync, asynchronous

    def _body(self, op: dict[str, Any], required: list[str], optional: list[str]) -> str:
        """Adds the body's fields to the arguments; the body's expression (or "None")."""
        content = op.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None:
            return "None"
        schema = content["schema"]
        choices = schema.get("anyOf", schema.get("oneOf"))
        nullable = False
        if choices is not None:
            refs = [c for c in choices if "$ref" in c]
            nullable = any(c.get("type") == "null" for c in choices)
            if len(refs) != 1:  # a choice of bodies (e.g. a personal or a group packet): the caller's dict
                required.append("body: dict[str, Any]")
                return "body"
            schema = refs[0]
        component = self.spec["components"]["schemas"][schema["$ref"].removeprefix(REF)]
        needed = set(component.get("required", [])) if not nullable else set()
        fixed, loose = [], []
        for name, field in component.get("properties", {}).items():
            py = _py_name(name)
            kind = self.arg_type(field)
            if name in needed:
                required.append(f"{py}: {kind}")
                fixed.append(f"{name!r}: {py}")
            else:
                optional.append(f"{py}: {_optional(kind)} = None")
                loose.append(f"{name!r}: {py}")
        parts = fixed + ([f"**_set({{{', '.join(loose)}}})"] if loose else [])
        return "{" + ", ".join(parts) + "}"

    # ------------------------------------------------------------------ the file

    def render(self) -> str:
        functions, syncs, asyncs = [], [], []
        for path, item in self.spec["paths"].items():
            for method, op in item.items():
                if op["operationId"] in HANDWRITTEN:
                    continue
                function, sync, asynchronous = self.operation(method, path, op)
                functions.append(function)
                syncs.append(sync)
                asyncs.append(asynchronous)
        imports = "\n".join(_import(module, names) for module, names in sorted(self.imports.items()))
        exported = [f.split("(", 1)[0].removeprefix("def ") for f in functions] + ["AsyncOps", "SyncOps"]
        listing = "__all__ = [\n" + "".join(f"    {name!r},\n" for name in sorted(exported)) + "]\n"
        return HEADER.format(imports=imports, listing=listing) + "\n\n".join(functions) + (
            "\n\nclass SyncOps:\n"
            '    """Every operation as a method of the sync client (`Client`)."""\n\n'
            "    def call(self, call: Call[T]) -> T:\n"
            "        raise NotImplementedError\n\n"
        ) + "\n".join(syncs) + (
            "\n\nclass AsyncOps:\n"
            '    """Every operation as a method of the async client (`AsyncClient`)."""\n\n'
            "    async def call(self, call: Call[T]) -> T:\n"
            "        raise NotImplementedError\n\n"
        ) + "\n".join(asyncs)


HEADER = '''"""Every operation of the hongbao API as a typed call.

GENERATED by `python -m hongbao.client.generate` from the live OpenAPI document: do not edit.
Replies are the API's own response models; see hongbao/client/generate.py for the rules.
"""

# ruff: noqa: E501

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import quote

{imports}
from hongbao.client._core import Call

{listing}T = TypeVar("T")


def _seg(value: object) -> str:
    """A path parameter, escaped as one path segment."""
    return quote(str(value), safe="")


def _set(values: dict[str, Any]) -> dict[str, Any]:
    """The optional arguments the caller gave (None: left out, the server's default applies)."""
    return {{k: v for k, v in values.items() if v is not None}}


'''


def _import(module: str, names: set[str]) -> str:
    """One import statement, as ruff's isort writes it (one name a line when the line would pass 120)."""
    ordered = sorted(names, key=lambda n: (n.lower(), n))
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= 120:
        return line
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in ordered) + ")"


def _py_name(name: str) -> str:
    py = re.sub(r"\W", "_", name).lower()
    return py + "_" if keyword.iskeyword(py) or py in ("self", "body", "call") else py


def _optional(kind: str) -> str:
    return kind if kind.endswith("| None") or kind in ("Any", "None") else f"{kind} | None"


def _fstring(path: str) -> str:
    return ("f" if "{" in path else "") + repr(path)


def _success(op: dict[str, Any]) -> tuple[str, tuple[str, dict[str, Any]] | None]:
    for status, answer in sorted(op["responses"].items()):
        if status.startswith("2"):
            content = answer.get("content") or {}
            for media, body in content.items():
                return status, (media, body.get("schema", {}))
            return status, None
    return "200", None


def _summary(op: dict[str, Any]) -> str:
    return str(op.get("description") or op.get("summary") or "").strip().split("\n")[0]


def _doc(method: str, path: str, op: dict[str, Any], status: str, keyed: bool) -> str:
    summary = _summary(op).replace("\\", "\\\\").replace('"', "'")
    keyed_note = " Keyed: safe to retry." if keyed else ""
    return f'"""{method.upper()} {path} ({status}). {summary}{keyed_note}"""'


def generated(spec: dict[str, Any] | None = None) -> tuple[str, str]:
    """(the text of _generated.py, the text of docs/client-reference.md)."""
    writer = Writer(spec or live_schema())
    code = writer.render()
    rows = sorted(writer.rows + [
        f"| `{name}()` | `GET /v1/events` | `Event`s | hand-written: {why} |" for name, why in HANDWRITTEN.items()
    ])
    return code, REFERENCE_HEAD + "\n".join(rows) + "\n"


REFERENCE_HEAD = """# hongbao.client: every operation

GENERATED by `python -m hongbao.client.generate` from the live OpenAPI document: do not edit.  Each operation of
the API is a method of `Client` and of `AsyncClient` (`await` it), named by its operation id, and a `Call` in
`hongbao.client.ops` (`client.call(ops.packets_open(7))`).  Arguments after `*` are keyword-only and left out of
the request when None.  *Keyed* calls carry an Idempotency-Key, made for you unless you pass `idempotency_key=`,
the same on every retry.  Replies are the API's own response models (`hongbao.api.schemas*`); see the guide,
docs/embed.md, for the short names and the retry rules.

| method | request | returns | what it does |
|---|---|---|---|
"""


def main(argv: list[str]) -> int:
    code, reference = generated()
    targets = [(TARGET, code), (REFERENCE, reference)]
    if "--check" in argv:
        stale = [str(path) for path, text in targets if not path.exists() or path.read_text(encoding="utf-8") != text]
        print(f"{stale} differ from the live schema: run python -m hongbao.client.generate" if stale else "up to date")
        return 1 if stale else 0
    for path, text in targets:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
