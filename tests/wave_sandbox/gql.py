"""GraphQL request execution with Wave-style error envelopes and a document cache."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict

from graphql import GraphQLError, GraphQLSchema, execute_sync, parse, validate
from graphql.language import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
)

from .fastexec import CompiledQuery, Fallback

UNAUTHENTICATED_MESSAGE = "Login Required: Authorization header missing or token is expired"


def error(message, code, **extra) -> dict:
    ext = {"id": str(uuid.uuid4()), "code": code}
    return {"message": message, **extra, "extensions": ext}


def format_error(err: GraphQLError, default_code: str) -> dict:
    out = {"message": err.message}
    if err.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in err.locations]
    if err.path:
        out["path"] = list(err.path)
    ext = dict(err.extensions or {})
    if "code" not in ext:
        ext["code"] = (
            "INTERNAL_SERVER_ERROR"
            if err.original_error is not None and not isinstance(err.original_error, GraphQLError)
            else default_code
        )
    ext = {"id": str(uuid.uuid4()), **ext}
    out["extensions"] = ext
    return out


NOT_FOUND_SHAPES = ("wave", "no_code", "other_path", "bare")


def reshape_not_found(error: dict, shape: str) -> dict:
    """A NOT_FOUND error in another plausible shape (test switch ``not_found_shape``):
    ``no_code`` (no ``extensions.code``), ``other_path`` (path cut to its first
    field) or ``bare`` (neither code nor path; only the message says it)."""
    if (error.get("extensions") or {}).get("code") != "NOT_FOUND":
        return error
    error = dict(error, extensions=dict(error["extensions"]))
    if shape in ("no_code", "bare"):
        error["extensions"].pop("code")
    if shape == "other_path" and error.get("path"):
        error["path"] = error["path"][:1]
    if shape == "bare":
        error.pop("path", None)
    return error


class Prepared:
    """A parsed + validated document and the root field names per operation."""

    __slots__ = ("compiled", "document", "errors", "kinds", "roots")

    def __init__(self, document, errors, roots, kinds):
        self.document, self.errors, self.roots, self.kinds = document, errors, roots, kinds
        self.compiled = {}  # operationName -> CompiledQuery | None (None = not eligible)


def _root_fields(op, fragments):
    names = []

    def walk(selection_set):
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                if not sel.name.value.startswith("__"):
                    names.append(sel.name.value)
            elif isinstance(sel, InlineFragmentNode):
                walk(sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value in fragments:
                walk(fragments[sel.name.value].selection_set)

    walk(op.selection_set)
    return names


class Executor:
    def __init__(self, schema: GraphQLSchema, cache_size: int = 512, fast: bool = True):
        self.schema = schema
        self.fast = fast
        self.cache: OrderedDict[str, Prepared] = OrderedDict()
        self.cache_size = cache_size
        self.lock = threading.Lock()

    def prepare(self, query: str) -> Prepared | dict:
        """Parse+validate (cached).  Returns Prepared, or an error response body."""
        with self.lock:
            prepared = self.cache.get(query)
            if prepared is not None:
                self.cache.move_to_end(query)
                return prepared
        try:
            document = parse(query)
        except GraphQLError as exc:
            return {"errors": [format_error(exc, "GRAPHQL_PARSE_FAILED")]}
        errors = validate(self.schema, document)
        fragments = {
            d.name.value: d for d in document.definitions if d.kind == "fragment_definition"
        }
        roots, kinds = {}, {}
        for d in document.definitions:
            if isinstance(d, OperationDefinitionNode):
                name = d.name.value if d.name else None
                roots[name] = _root_fields(d, fragments)
                kinds[name] = d.operation.value
        prepared = Prepared(document, errors, roots, kinds)
        with self.lock:
            self.cache[query] = prepared
            if len(self.cache) > self.cache_size:
                self.cache.popitem(last=False)
        return prepared

    def _fast(self, prepared, variables, operation_name, context):
        compiled = prepared.compiled.get(operation_name, False)
        if compiled is False:
            try:
                compiled = CompiledQuery(self.schema, prepared.document, operation_name)
            except Fallback:
                compiled = None
            prepared.compiled[operation_name] = compiled
        if compiled is None:
            return None
        try:
            return compiled.execute(context, variables)
        except Fallback:
            return None

    def run(self, prepared: Prepared, variables, operation_name, context) -> dict:
        if prepared.errors:
            return {
                "errors": [format_error(e, "GRAPHQL_VALIDATION_FAILED") for e in prepared.errors]
            }
        if self.fast:
            data = self._fast(prepared, variables, operation_name, context)
            if data is not None:
                return {"data": data}
        result = execute_sync(
            self.schema,
            prepared.document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
        )
        body = {}
        if result.errors:
            default = "VARIABLE_VALUE" if result.data is None else "INTERNAL_SERVER_ERROR"
            if result.data is None and operation_name is None and len(prepared.roots) > 1:
                default = "GRAPHQL_VALIDATION_FAILED"
            body["errors"] = [format_error(e, default) for e in result.errors]
            shape = getattr(getattr(context, "state", None), "not_found_shape", "wave")
            if shape != "wave":
                body["errors"] = [reshape_not_found(e, shape) for e in body["errors"]]
        body["data"] = result.data
        return body
