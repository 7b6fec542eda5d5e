"""JSON (de)serialisation of the whole :class:`~wave_sandbox.store.State`.

Entities are written once, in creation order, as ``{"$cls": ..., "id": ..., fields}``;
references between them become ``{"$ref": id}``.  Values are tagged where JSON has no
type: ``$d`` Decimal, ``$date``, ``$dt`` datetime, ``$tuple``, ``$set``, ``$obj`` (a
non-entity slotted object).  Caches (sort/account caches, per-customer index) are rebuilt.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from . import store

FORMAT = "wave-sandbox-state/1"
_SKIP = {"__weakref__", "state", "sort_cache", "account_cache", "by_customer"}
_CLASSES = {
    name: obj
    for name, obj in vars(store).items()
    if isinstance(obj, type) and obj.__module__ == store.__name__
}


def _slots(cls):
    names = []
    for klass in reversed(cls.__mro__):
        for name in getattr(klass, "__slots__", ()):
            if name not in _SKIP and name not in names:
                names.append(name)
    return names


def _enc(value, objects):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, list):
        return [_enc(v, objects) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [_enc(v, objects) for v in value]}
    if isinstance(value, set):
        return {"$set": sorted(_enc(v, objects) for v in value)}
    if isinstance(value, dict):
        return {"$dict": {k: _enc(v, objects) for k, v in value.items()}}
    if isinstance(value, store.Entity) and objects.get(value.id) is value:
        return {"$ref": value.id}
    if type(value).__name__ in _CLASSES and hasattr(type(value), "__slots__"):
        return _obj(value, objects)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _obj(obj, objects):
    out = {"$obj": type(obj).__name__}
    for name in _slots(type(obj)):
        if hasattr(obj, name):
            out[name] = _enc(getattr(obj, name), objects)
    return out


def dump(state: store.State) -> dict:
    objects = state.objects
    return {
        "format": FORMAT,
        "seed": state.seed,
        "rng": _enc(state.rng.getstate(), objects),
        "frozen_today": _enc(state.frozen_today, objects),
        "access_token_ttl": state.access_token_ttl,
        "last_now": _enc(state._last_now, objects),
        "objects": [_obj(o, objects) for o in objects.values()],
        "users": [u.id for u in state.users],
        "businesses": [b.id for b in state.businesses],
        "tokens": [_obj(t, objects) for t in state.tokens.values()],
        "refresh_tokens": _enc(state.refresh_tokens, objects),
        "auth_codes": _enc(state.auth_codes, objects),
        "oauth_clients": _enc(state.oauth_clients, objects),
        "webhook_subscriptions": _enc(getattr(state, "webhook_subscriptions", {}), objects),
        "realistic_cases": _enc(getattr(state, "realistic_cases", None) or {}, objects),
    }


def _dec(value, objects):
    if isinstance(value, list):
        return [_dec(v, objects) for v in value]
    if not isinstance(value, dict):
        return value
    if "$ref" in value:
        return objects[value["$ref"]]
    if "$d" in value:
        return Decimal(value["$d"])
    if "$dt" in value:
        return dt.datetime.fromisoformat(value["$dt"])
    if "$date" in value:
        return dt.date.fromisoformat(value["$date"])
    if "$tuple" in value:
        return tuple(_dec(v, objects) for v in value["$tuple"])
    if "$set" in value:
        return {_dec(v, objects) for v in value["$set"]}
    if "$dict" in value:
        return {k: _dec(v, objects) for k, v in value["$dict"].items()}
    if "$obj" in value:
        obj = _CLASSES[value["$obj"]].__new__(_CLASSES[value["$obj"]])
        _fill(obj, value, objects)
        return obj
    raise ValueError(f"unexpected JSON object {sorted(value)[:3]}")


def _fill(obj, data, objects):
    for name, raw in data.items():
        if name != "$obj":
            setattr(obj, name, _dec(raw, objects))


def load(data: dict) -> store.State:
    if data.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    state = store.State(data["seed"])
    state.rng.setstate(_dec(data["rng"], {}))
    state.frozen_today = _dec(data["frozen_today"], {})
    state.access_token_ttl = data["access_token_ttl"]
    state._last_now = _dec(data["last_now"], {})
    objects = state.objects
    for raw in data["objects"]:  # pass 1: instantiate, so references resolve in pass 2
        cls = _CLASSES[raw["$obj"]]
        objects[raw["id"]] = cls.__new__(cls)
    for raw in data["objects"]:
        obj = objects[raw["id"]]
        _fill(obj, raw, objects)
        if isinstance(obj, store.Invoice):
            obj.state = state
    state.users = [objects[i] for i in data["users"]]
    state.businesses = [objects[i] for i in data["businesses"]]
    for b in state.businesses:
        b.sort_cache, b.account_cache, b.by_customer = {}, {}, {}
        for inv in b.invoices:
            b.by_customer.setdefault(inv.customer.id, []).append(inv)
    for raw in data["tokens"]:
        tok = _dec(raw, objects)
        state.tokens[tok.token] = tok
    state.refresh_tokens = _dec(data["refresh_tokens"], objects)
    state.auth_codes = _dec(data["auth_codes"], objects)
    state.oauth_clients = _dec(data["oauth_clients"], objects)
    state.webhook_subscriptions = _dec(data["webhook_subscriptions"], objects)
    state.realistic_cases = _dec(data.get("realistic_cases") or {"$dict": {}}, objects)
    return state
