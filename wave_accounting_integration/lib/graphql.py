"""Small GraphQL document helpers (no parser dependency).

They strip comments and string literals, find the top-level operation of a
document, and build the alias documents used for batched look-ups and
batched mutations. Identifiers that end up inside a document are validated;
values are always passed as variables, never interpolated.
"""

import re

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TYPE_RE = re.compile(r"^\[?[A-Za-z_][A-Za-z0-9_]*!?\]?!?$")
_STRING_RE = re.compile(r'"""(?:.|\n)*?"""|"(?:\\.|[^"\\\n])*"')
_COMMENT_RE = re.compile(r"#[^\n\r]*")
_TOKEN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[{}()]")

MUTATION_RESULT_FIELDS = "didSucceed inputErrors { code message path }"


def check_name(name, what="name"):
    """Return ``name`` if it is a valid GraphQL name, else raise ValueError."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(f"Invalid GraphQL {what}: {name!r}")
    return name


def _strip(document):
    """Remove string literals and comments (so keywords inside them are ignored)."""
    return _COMMENT_RE.sub(" ", _STRING_RE.sub('""', document))


def operations(document):
    """Return ``[(kind, name_or_None), ...]`` for the top-level operations."""
    ops, depth, pending = [], 0, None
    for token in _TOKEN_RE.findall(_strip(document)):
        if token in "{(":
            if depth == 0 and token == "{" and pending is None:
                ops.append(("query", None))
            elif depth == 0 and token == "{" and pending and pending[0] != "fragment":
                ops.append(tuple(pending))
            if depth == 0 and token == "{":
                pending = None
            depth += 1
        elif token in "})":
            depth -= 1
        elif (
            depth == 0
            and pending is None
            and token in ("query", "mutation", "subscription", "fragment")
        ):
            pending = [token, None]
        elif depth == 0 and pending is not None and pending[1] is None:
            pending[1] = token
    return ops


def operation_info(document, operation_name=None):
    """Return ``(kind, name)`` of the operation that will run.

    ``kind`` is ``"query"``, ``"mutation"`` or ``"subscription"``; the name is
    the given ``operation_name`` or the one declared in the document.
    """
    ops = operations(document)
    for kind, name in ops:
        if operation_name is None or name == operation_name:
            return kind, operation_name or name
    return ("query", operation_name)


def is_mutation(document, operation_name=None):
    """Return True when the operation to run is a mutation."""
    return operation_info(document, operation_name)[0] == "mutation"


def as_selection(selection):
    """Return ``selection`` wrapped in braces (empty string stays empty)."""
    selection = (selection or "").strip()
    if not selection or selection.startswith("{"):
        return selection
    return "{ " + selection + " }"


def build_lookup_document(field, count, selection, also=None):
    """Build the aliased look-up query for ``count`` ids of ``business.<field>``.

    Variables: ``$businessId`` and ``$id0 .. $id<count-1>``; aliases ``i0..``.
    ``also``: ``(declarations, fields)`` read in the same request: more variable
    declarations and more fields of ``business`` (aliased apart from ``i<n>``).
    """
    check_name(field, "field")
    params = ["$businessId: ID!"] + [f"$id{i}: ID!" for i in range(count)]
    sel = as_selection(selection)
    body = [f"i{i}: {field}(id: $id{i}) {sel}" for i in range(count)]
    if also:
        params.append(also[0])
        body.append(also[1])
    params, body = ", ".join(params), " ".join(body)
    return f"query WaveLookupMany({params}) {{ business(id: $businessId) {{ {body} }} }}"


def connection_nodes(connection):
    """The ``edges[].node`` of a paginated connection's answer (None nodes left out)."""
    return [
        edge["node"]
        for edge in (connection or {}).get("edges") or []
        if edge and edge.get("node") is not None
    ]


def input_type_for(mutation_name):
    """Return the input type of a mutation (``customerCreate`` → ``CustomerCreateInput``)."""
    check_name(mutation_name, "mutation name")
    return mutation_name[0].upper() + mutation_name[1:] + "Input"


def mutation_field(alias, name, selection, variable, input_type=None):
    """Return one aliased mutation field ``alias: name(input: $variable) {...}``."""
    check_name(name, "mutation name")
    if alias is not None:
        check_name(alias, "alias")
    sel = (selection or "").strip()
    if sel.startswith("{"):
        sel = sel[1:-1].strip()
    head = f"{alias}: {name}" if alias else name
    return f"{head}(input: ${variable}) {{ {MUTATION_RESULT_FIELDS} {sel} }}"


def build_mutation_document(entries, operation_name="WaveMutate"):
    """Build one mutation document from ``[(alias, name, selection, input_type)]``.

    Each entry gets its own variable ``$in_<alias>`` (or ``$input`` when the
    alias is None and it is the only entry).
    """
    check_name(operation_name, "operation name")
    params, fields = [], []
    for alias, name, selection, input_type in entries:
        variable = f"in_{alias}" if alias else "input"
        type_name = input_type or input_type_for(name)
        if not _TYPE_RE.match(type_name):
            raise ValueError(f"Invalid GraphQL input type: {type_name!r}")
        params.append(f"${variable}: {type_name.rstrip('!')}!")
        fields.append(mutation_field(alias, name, selection, variable))
    return f"mutation {operation_name}({', '.join(params)}) {{ {' '.join(fields)} }}"


def get_path(data, path):
    """Return the value at ``path`` (dotted string or sequence) in ``data``, or None."""
    parts = path.split(".") if isinstance(path, str) else list(path)
    for part in parts:
        if data is None:
            return None
        data = data[part] if isinstance(data, list) else data.get(part)
    return data
