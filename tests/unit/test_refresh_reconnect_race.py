"""A reconnect stored while the same account's refresh waits on the token endpoint is kept: the
refresh's result, made from the record read before the call, is dropped instead of written over
it. Real refresher and vault, the console's and CLI's ``store_grant``, the sandbox's X; the
endpoint answers only once the reconnect has landed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.publisher.credentials.refresher import Refresher
from shared.channels import Channel
from shared.credentials.oauth_flow import store_grant
from shared.credentials.record import CredentialRecord
from shared.credentials.token_client import AppCredentials, Grant, answer
from tests.unit.token_world import World, in_process


class HeldEndpoint:
    """The world's token endpoints, answering only once ``release`` is set."""

    def __init__(self, world: World) -> None:
        self._call = in_process(world.authorities)
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, platform: str, url: str, app: AppCredentials, refresh_token: str) -> Grant:
        self.asked.set()
        await self.release.wait()
        return await self._call(platform, url, app, refresh_token)


async def _reconnect_during_refresh(
    world: World,
) -> tuple[Refresher, CredentialRecord, CredentialRecord | None]:
    endpoint = HeldEndpoint(world)
    refresher = Refresher(world.vault, endpoint, world.clock)
    world.clock.advance(minutes=115)  # due
    refreshing = asyncio.create_task(refresher.ensure_fresh("x-demo"))
    await endpoint.asked.wait()
    channel = Channel.model_validate({"id": "x-demo", "platform": "x", "secret": "x-demo"})
    grant = answer(200, world.authorities["x"].mint("x-demo", client_id="x-app"))
    reconnect = store_grant(world.new_vault(), channel, AppCredentials("x-app"), grant, world.clock())
    endpoint.release.set()
    return refresher, reconnect, await refreshing


async def test_a_refused_refresh_does_not_park_the_reconnect_stored_meanwhile(tmp_path: Path) -> None:
    world = World(tmp_path, platforms=("x",))
    world.authorities["x"].revoke_account("x-demo")  # the user revoked Warta; the operator reconnects
    refresher, reconnect, returned = await _reconnect_during_refresh(world)
    stored = world.new_vault().fresh("x-demo")
    assert stored is not None
    assert (stored.status, stored.access_token, stored.version) == (
        "connected",
        reconnect.access_token,
        reconnect.version,
    )
    assert returned is not None
    assert returned.access_token == reconnect.access_token
    assert refresher.parked["x"] == 0


async def test_a_successful_refresh_does_not_overwrite_the_reconnect_stored_meanwhile(tmp_path: Path) -> None:
    world = World(tmp_path, platforms=("x",))
    refresher, reconnect, returned = await _reconnect_during_refresh(world)
    stored = world.new_vault().fresh("x-demo")
    assert stored is not None
    assert (stored.access_token, stored.refresh_token) == (reconnect.access_token, reconnect.refresh_token)
    assert returned is not None
    assert returned.access_token == reconnect.access_token
    assert refresher.refreshes["x"] == 0
    # The reconnect's grant keeps working: its next refresh goes through.
    world.clock.advance(minutes=115)
    again = await refresher.ensure_fresh("x-demo")
    assert again is not None
    assert (again.status, refresher.refreshes["x"]) == ("connected", 1)
