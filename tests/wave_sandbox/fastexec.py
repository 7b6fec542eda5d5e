"""A lean executor for already-validated *queries* (the hot path of list pages).

graphql-core's general executor costs ~2 µs per field; a page of 100 invoices with lines
is ~6,000 fields.  This module compiles a validated query document into closures once
(cached with the document) and runs them with the same resolvers.  Anything unusual
(directives, introspection, a resolver error, a null in a non-null position, bad variables)
raises :class:`Fallback`, and the caller re-runs the query with graphql-core, which
produces the exact standard result and errors.  Queries have no side effects, so the
re-run is safe; mutations always go through graphql-core.
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.language import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
)
from graphql.pyutils import Path


class Fallback(Exception):
    """Let graphql-core execute this request instead."""


class _Holder:
    __slots__ = ("ctx", "req", "variables")


class FastInfo:
    """The subset of GraphQLResolveInfo our resolvers use: ``context`` and ``path``."""

    __slots__ = ("field_name", "holder", "path")

    def __init__(self, path, holder, field_name):
        self.path, self.holder, self.field_name = path, holder, field_name

    @property
    def context(self):
        return self.holder.ctx


_BUILTIN_SERIALIZERS = {"String": str, "ID": str, "Int": int, "Boolean": bool, "Float": float}


def _has_directives(node) -> bool:
    if getattr(node, "directives", None):
        return True
    sel = getattr(node, "selection_set", None)
    return bool(sel) and any(_has_directives(s) for s in sel.selections)


class _FieldPlan:
    # kind: 0 = __typename, 1 = plain attribute, 2 = resolver (static args),
    #       3 = resolver with variable-dependent args
    __slots__ = (
        "args",
        "attr",
        "complete",
        "field_def",
        "info",
        "key",
        "kind",
        "node",
        "non_null",
        "req",
        "resolver",
        "typename",
    )


class CompiledQuery:
    def __init__(self, schema, document, operation_name=None):
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        op = None
        if operation_name is None and len(ops) == 1:
            op = ops[0]
        else:
            op = next((o for o in ops if o.name and o.name.value == operation_name), None)
        if op is None or op.operation != OperationType.QUERY:
            raise Fallback
        if _has_directives(op) or any(_has_directives(f) for f in self.fragments.values()):
            raise Fallback
        self.op = op
        self.holder = _Holder()
        self.holder.req = 0
        self.root = self._object_plan(schema.query_type, [op.selection_set], None)

    # compile ---------------------------------------------------------------------
    def _applies(self, cond, obj_type) -> bool:
        if cond is None:
            return True
        cond_type = self.schema.get_type(cond.name.value)
        if cond_type is obj_type:
            return True
        if isinstance(cond_type, GraphQLInterfaceType | GraphQLUnionType):
            return self.schema.is_sub_type(cond_type, obj_type)
        return False

    def _collect(self, obj_type, selection_sets, fields):
        for sel_set in selection_sets:
            for sel in sel_set.selections:
                if isinstance(sel, FieldNode):
                    key = sel.alias.value if sel.alias else sel.name.value
                    fields.setdefault(key, []).append(sel)
                elif isinstance(sel, InlineFragmentNode):
                    if self._applies(sel.type_condition, obj_type):
                        self._collect(obj_type, [sel.selection_set], fields)
                elif isinstance(sel, FragmentSpreadNode):
                    frag = self.fragments.get(sel.name.value)
                    if frag is None:
                        raise Fallback
                    if self._applies(frag.type_condition, obj_type):
                        self._collect(obj_type, [frag.selection_set], fields)
        return fields

    def _object_plan(self, obj_type, selection_sets, path):
        plans = []
        for key, nodes in self._collect(obj_type, selection_sets, {}).items():
            name = nodes[0].name.value
            p = _FieldPlan()
            p.key = key
            p.typename = None
            if name == "__typename":
                p.kind, p.typename = 0, obj_type.name
                plans.append(p)
                continue
            if name.startswith("__"):
                raise Fallback
            field_def = obj_type.fields.get(name)
            if field_def is None or field_def.resolve is None:
                raise Fallback
            fpath = Path(path, key, obj_type.name)
            p.resolver, p.node, p.field_def = field_def.resolve, nodes[0], field_def
            p.info = FastInfo(fpath, self.holder, name)
            dynamic = any(_uses_variables(a.value) for a in (nodes[0].arguments or ()))
            p.args = None if dynamic else get_argument_values(field_def, nodes[0], {})
            p.attr = getattr(p.resolver, "attr_name", None)
            p.kind = 3 if dynamic else (1 if p.attr and not p.args else 2)
            p.req = -1
            gtype = field_def.type
            p.non_null = isinstance(gtype, GraphQLNonNull)
            if p.non_null:
                gtype = gtype.of_type
            p.complete = self._completer(gtype, nodes, fpath, top=True)
            plans.append(p)
        return plans

    def _completer(self, gtype, nodes, path, top=False):
        """Completion function for a non-None value (``top``: None means identity)."""
        if top and (
            isinstance(gtype, GraphQLEnumType)
            or (isinstance(gtype, GraphQLScalarType) and gtype.name in _BUILTIN_SERIALIZERS)
        ):
            return None
        if top and isinstance(gtype, GraphQLScalarType):
            return gtype.serialize
        if top and isinstance(gtype, GraphQLObjectType):
            plan = self._object_plan(
                gtype, [n.selection_set for n in nodes if n.selection_set], path
            )
            run = self._run
            return lambda v: run(plan, v)
        if isinstance(gtype, GraphQLNonNull):
            inner = self._completer(gtype.of_type, nodes, path)

            def non_null(v):
                if v is None:
                    raise Fallback
                return inner(v)

            return non_null
        if isinstance(gtype, GraphQLList):
            inner = self._completer(gtype.of_type, nodes, path)
            return lambda v: None if v is None else [inner(x) for x in v]
        if isinstance(gtype, GraphQLEnumType):
            return lambda v: v
        if isinstance(gtype, GraphQLScalarType):
            ser = _BUILTIN_SERIALIZERS.get(gtype.name, gtype.serialize)
            return lambda v: None if v is None else ser(v)
        sel_sets = [n.selection_set for n in nodes if n.selection_set]
        if isinstance(gtype, GraphQLObjectType):
            plan = self._object_plan(gtype, sel_sets, path)
            run = self._run
            return lambda v: None if v is None else run(plan, v)
        cache = {}

        def abstract(v):
            if v is None:
                return None
            type_name = gtype.resolve_type(v, None, gtype)
            plan = cache.get(type_name)
            if plan is None:
                plan = cache[type_name] = self._object_plan(
                    self.schema.get_type(type_name), sel_sets, path
                )
            return self._run(plan, v)

        return abstract

    # run -------------------------------------------------------------------------
    def _run(self, plans, source):
        out = {}
        for p in plans:
            kind = p.kind
            if kind == 1:
                value = getattr(source, p.attr)
            elif kind == 0:
                out[p.key] = p.typename
                continue
            else:
                if kind == 3 and p.req != self.holder.req:
                    p.args = get_argument_values(p.field_def, p.node, self.holder.variables)
                    p.req = self.holder.req
                args = p.args
                value = p.resolver(source, p.info, **args) if args else p.resolver(source, p.info)
            if value is None:
                if p.non_null:
                    raise Fallback
                out[p.key] = None
            elif p.complete is None:
                out[p.key] = value
            else:
                out[p.key] = p.complete(value)
        return out

    def execute(self, ctx, variables):
        coerced = get_variable_values(
            self.schema, self.op.variable_definitions or [], variables or {}
        )
        if isinstance(coerced, list):
            raise Fallback
        h = self.holder
        h.ctx, h.variables, h.req = ctx, coerced, h.req + 1
        try:
            return self._run(self.root, None)
        except GraphQLError:
            raise Fallback from None
        finally:
            h.ctx = h.variables = None


def _uses_variables(value_node) -> bool:
    kind = value_node.kind
    if kind == "variable":
        return True
    if kind == "list_value":
        return any(_uses_variables(v) for v in value_node.values)
    if kind == "object_value":
        return any(_uses_variables(f.value) for f in value_node.fields)
    return False
