"""The client's reply types are the API's own response models (`hongbao.api.schemas*`): one definition, here
re-exported under the short names the client has always used, and read leniently.

The API's models forbid keys they do not name (the server's tests catch an undocumented key), but a client must
not break when a newer server adds one: `parse` leaves out the keys the model does not name, at every depth,
before validating.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter

from hongbao.api.schemas import BalancePublic as Balance
from hongbao.api.schemas import ClaimPublic as Claim
from hongbao.api.schemas import GrabPublic as Grab
from hongbao.api.schemas import MePublic as Me
from hongbao.api.schemas import OpenPublic as Opened
from hongbao.api.schemas import PacketPage as PacketPage
from hongbao.api.schemas import PacketPublic as Packet
from hongbao.api.schemas import PaymentPublic as Payment
from hongbao.api.schemas import SessionPublic as Session
from hongbao.api.schemas import StatementEntry as StatementEntry
from hongbao.api.schemas import StatementPage as Statement
from hongbao.api.schemas import UserPublic as User
from hongbao.api.schemas_hosts import HostDashboard as HostDashboard
from hongbao.api.schemas_hosts import HostKeyPublic as HostKey
from hongbao.api.schemas_hosts import NewHostKey as NewHostKey
from hongbao.api.schemas_hosts import WebhookPublic as WebhookEndpoint
from hongbao.api.schemas_relay import TransferPage as TransferPage
from hongbao.api.schemas_relay import TransferPublic as Transfer
from hongbao.api.schemas_social import FriendshipPublic as Friendship
from hongbao.api.schemas_social import GroupPublic as Group

__all__ = [
    "Balance", "Claim", "Friendship", "Grab", "Group", "HostDashboard", "HostKey", "Me", "NewHostKey", "Opened",
    "Packet", "PacketPage", "Payment", "Session", "Statement", "StatementEntry", "Transfer", "TransferPage", "User",
    "WebhookEndpoint", "known", "parse",
]
_adapters: dict[Any, TypeAdapter[Any]] = {}


def parse(model: Any, data: Any) -> Any:
    """The reply as `model` (a model class, a list or union of them), or as plain JSON when the call has none."""
    if model is None:
        return data
    adapter = _adapters.get(model)
    if adapter is None:
        adapter = _adapters[model] = TypeAdapter(model)
    return adapter.validate_python(known(model, data))


def known(kind: Any, value: Any) -> Any:
    """`value` without the keys that no model of `kind` names (a newer server's additions), at every depth."""
    origin = get_origin(kind)
    if origin is Annotated:
        return known(get_args(kind)[0], value)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        if not isinstance(value, dict):
            return value
        fields = {(f.alias or name): f for name, f in kind.model_fields.items()}
        return {k: known(fields[k].annotation, v) for k, v in value.items() if k in fields}
    if origin in (list, tuple, set, frozenset) and isinstance(value, list):
        args = get_args(kind)
        return [known(args[0] if args else Any, v) for v in value]
    if origin is dict and isinstance(value, dict):
        args = get_args(kind)
        return {k: known(args[1] if len(args) > 1 else Any, v) for k, v in value.items()}
    if origin is Union or origin is types.UnionType:
        return known(_fitting(get_args(kind), value), value)
    return value


def _fitting(choices: tuple[Any, ...], value: Any) -> Any:
    """Of a union's members, the one `value` is: the model whose required fields it has most of, or a list."""
    if isinstance(value, dict):
        models = [c for c in choices if isinstance(c, type) and issubclass(c, BaseModel)]
        if models:
            return max(models, key=lambda m: (all(
                (f.alias or n) in value for n, f in m.model_fields.items() if f.is_required()
            ), sum((f.alias or n) in value for n, f in m.model_fields.items())))
    if isinstance(value, list):
        return next((c for c in choices if get_origin(c) in (list, tuple, set, frozenset)), Any)
    return Any
