"""A use case's reply (a TypedDict in service/results/) and the response model of the route that answers it name
the same keys, so neither can gain or lose one alone: mypy checks the use case against its TypedDict, this test
checks the TypedDict against the model, and the model is what clients see."""

from __future__ import annotations

import inspect
import pkgutil
from importlib import import_module
from types import ModuleType
from typing import Any, TypedDict, get_type_hints, is_typeddict

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

import hongbao.api.routes
import hongbao.service.results
from hongbao.api import schemas, schemas_campaigns, schemas_hosts, schemas_open, schemas_relay, schemas_social
from hongbao.service.ports.campaigns import DayFigures, MerchantListed, MerchantOffer, PrizeLine
from hongbao.service.ports.hosts import HostFigures
from hongbao.service.results import (
    campaigns,
    hosts,
    merchants,
    open_kinds,
    opening,
    packets,
    relay,
    shake,
    social,
    wallet,
)


def _modules(package: ModuleType) -> list[ModuleType]:
    return [import_module(f"{package.__name__}.{m.name}") for m in pkgutil.iter_modules(package.__path__)]


RESULTS = _modules(hongbao.service.results)
ROUTES = [route for m in _modules(hongbao.api.routes) for route in m.router.routes if isinstance(route, APIRoute)]

# Replies whose route's return type is not the TypedDict itself, paired here by hand: found inside other replies
# (a list of entries in a page), answered as a list or as one of a union (a shake; a campaign to owner or not), or
# answered as raw JSON (拆 and the open kinds' sends: orjson Responses, their models only in the OpenAPI document).
BY_HAND: list[tuple[Any, type[BaseModel]]] = [
    (opening.Opened, schemas.OpenPublic),
    (campaigns.Campaign, schemas_campaigns.CampaignPublic),
    (campaigns.FollowedCampaign, schemas_campaigns.FollowedCampaign),
    (PrizeLine, schemas_campaigns.PrizePublic),
    (DayFigures, schemas_campaigns.DayFigures),
    (MerchantListed, schemas_campaigns.MerchantPublic),
    (MerchantOffer, schemas_campaigns.MerchantOffer),
    (merchants.Coupon, schemas_campaigns.CouponPublic),
    (merchants.NearbyOffer, schemas_campaigns.NearbyOffer),
    (shake.RoundWindow, schemas_campaigns.RoundWindow),
    (hosts.Host, schemas_hosts.HostPublic),
    (social.Person, schemas.UserPublic),
    (social.GroupSummary, schemas_social.GroupSummary),  # the route answers a list of them
    (social.Message, schemas_social.MessagePublic),
    (HostFigures, schemas_hosts.HostFigures),
    (shake.PoolListed, schemas_campaigns.PoolListed),
    (shake.Pool, schemas_campaigns.PoolPublic),
    (shake.ShakeEventListed, schemas_campaigns.ShakeEventListed),
    (shake.ShakeNothing, schemas_campaigns.ShakeNothing),  # a shake answers one of three: the route says the union
    (shake.ShakeCard, schemas_campaigns.ShakeCard),
    (shake.ShakeWon, schemas_campaigns.ShakeWon),
    (open_kinds.Counts, schemas_open.Counts),
    (open_kinds.SharedPacket, schemas_open.OpenPacketCreated),
    (open_kinds.CodePacket, schemas_open.CodePacketCreated),
    (open_kinds.PhrasePacket, schemas_open.PasswordPacketCreated),
    (wallet.StatementEntry, schemas.StatementEntry),
    (packets.PacketSummary, schemas.PacketSummary),
    (packets.Claim, schemas.ClaimPublic),
    (relay.Round, schemas_relay.RoundPublic),
    (relay.ChainEvent, schemas_relay.RelayEventPublic),
    (relay.ChainSummary, schemas_relay.RelaySummary),
]
# Shapes no route answers as they are: a part other replies are built from (its keys are checked through them),
# what keyed requests store for their retries (an open's share seq; sealed secrets), the shake socket's counters,
# and the CLI's own answers.
PARTS = {
    wallet.EntryParts, opening.StoredOpen, open_kinds.SealedPacket, campaigns.StoredCampaign, shake.Live,
    social.AdminGranted,  # the CLI's `hongbao admin grant` only
}
# Keys a reply sends that its response model does not list.  Empty: the face-to-face, password and celebrity sends
# answer raw JSON, so their models had never checked that they name the sender (`sender_name`, now documented).
UNDOCUMENTED: dict[Any, list[str]] = {}


def _answered_by_routes() -> list[tuple[Any, type[BaseModel]]]:
    """(the TypedDict a route's function returns, the route's response model), for every such route."""
    pairs = []
    for route in ROUTES:
        returns = get_type_hints(route.endpoint).get("return")
        if is_typeddict(returns):
            pairs.append((returns, route.response_model))
    return pairs


PAIRS = sorted({*_answered_by_routes(), *BY_HAND}, key=lambda pair: (pair[0].__module__, pair[0].__name__))


def drift(reply: Any, model: type[BaseModel]) -> list[str]:
    """The keys one side names and the other does not (empty when they agree)."""
    reply_keys = set(reply.__required_keys__ | reply.__optional_keys__)
    model_keys = {field.serialization_alias or field.alias or name for name, field in model.model_fields.items()}
    return [f"only in {reply.__name__}: {k}" for k in sorted(reply_keys - model_keys)] + [
        f"only in {model.__name__}: {k}" for k in sorted(model_keys - reply_keys)
    ]


@pytest.mark.parametrize(("reply", "model"), PAIRS, ids=[f"{r.__name__}-{m.__name__}" for r, m in PAIRS])
def test_a_reply_names_the_keys_of_the_response_model_that_answers_it(reply: Any, model: type[BaseModel]) -> None:
    assert drift(reply, model) == [f"only in {reply.__name__}: {k}" for k in UNDOCUMENTED.get(reply, [])]


def test_every_reply_typed_in_service_results_is_checked_against_a_model() -> None:
    typed = {obj for m in RESULTS for _, obj in inspect.getmembers(m, is_typeddict) if obj.__module__ == m.__name__}
    checked = {reply for reply, _ in PAIRS}
    assert typed - checked - PARTS == set()
    assert len(_answered_by_routes()) >= 60  # the routes' return types are read (69 name a TypedDict)


def test_a_key_added_to_one_side_only_is_drift() -> None:
    class PaymentPlus(wallet.Payment):
        fee_fen: int

    class PaymentPublicPlus(schemas.PaymentPublic):
        fee_fen: int

    assert drift(wallet.Payment, schemas.PaymentPublic) == []
    assert drift(PaymentPlus, schemas.PaymentPublic) == ["only in PaymentPlus: fee_fen"]
    assert drift(wallet.Payment, PaymentPublicPlus) == ["only in PaymentPublicPlus: fee_fen"]


def test_a_reply_is_a_plain_dict_at_runtime() -> None:
    """Replies are stored as JSON for idempotency and replayed: a TypedDict makes nothing but a dict."""

    class Shape(TypedDict):
        a: int

    assert type(Shape(a=1)) is dict
