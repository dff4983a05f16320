"""The LAPOR! port's contract, held by the HTTP adapter against the sandbox's fake over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest

from services.inbox.errors import LaporRefused, LaporUnavailable
from services.inbox.lapor_http import HttpLapor, UnconfiguredLapor, lapor_port
from services.inbox.lapor_port import LaporComplaint
from tests.integration.conftest_fakes import TOKEN, running_sandbox

pytestmark = pytest.mark.integration


def complaint(ref: str = "ib1", **kw: str) -> LaporComplaint:
    fields = {"title": "Jalan rusak", "text": "Jalan rusak di depan pasar", "channel": "facebook-demo"}
    return LaporComplaint(
        client_ref=ref, reported_at=datetime(2026, 12, 4, 2, tzinfo=UTC), reporter="Warga", **{**fields, **kw}
    )


async def test_a_submission_returns_a_tracking_id_and_a_retry_never_opens_a_second() -> None:
    async with running_sandbox() as env:
        lapor = HttpLapor(env.session, env.url("/lapor"), TOKEN)
        first = await lapor.submit(complaint())
        again = await lapor.submit(complaint())
        other = await lapor.submit(complaint("ib2"))
        assert first == again
        assert other.tracking_id != first.tracking_id
        async with env.session.get(env.url("/lapor/_fake/complaints")) as answer:
            held = (await answer.json())["complaints"]
        assert [c["client_reference"] for c in held] == ["ib1", "ib2"]
        async with env.session.post(
            env.url("/lapor/_fake/status"), json={"tracking_id": first.tracking_id, "status": "selesai"}
        ) as answer:
            assert answer.status == 200
        assert (await lapor.status(first.tracking_id)).status == "selesai"


async def test_refusals_are_typed_and_say_why() -> None:
    async with running_sandbox() as env:
        with pytest.raises(LaporRefused) as bad_token:
            await HttpLapor(env.session, env.url("/lapor"), "wrong").submit(complaint())
        assert bad_token.value.status == 401
        with pytest.raises(LaporRefused, match="title") as bad_body:
            await HttpLapor(env.session, env.url("/lapor"), TOKEN).submit(complaint(title=" "))
        assert bad_body.value.status == 422
        with pytest.raises(LaporRefused) as unknown:
            await HttpLapor(env.session, env.url("/lapor"), TOKEN).status("LAPOR-999999")
        assert unknown.value.status == 404
        async with env.session.post(
            env.url("/lapor/complaints"), data=b"[1]", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as answer:
            assert answer.status == 400
        with pytest.raises(LaporRefused, match="not configured"):
            await lapor_port(env.session, "", "").submit(complaint())
        assert isinstance(lapor_port(env.session, env.url("/lapor"), ""), UnconfiguredLapor)


async def test_an_outage_is_retriable_and_the_retry_succeeds() -> None:
    async with running_sandbox() as env:
        lapor = HttpLapor(env.session, env.url("/lapor"), TOKEN)
        async with env.session.post(env.url("/lapor/_fake/fail"), json={"status": 503}) as answer:
            assert answer.status == 200
        with pytest.raises(LaporUnavailable) as outage:
            await lapor.submit(complaint())
        assert outage.value.retriable
        assert (await lapor.submit(complaint())).tracking_id == "LAPOR-000001"
        gone = env.url("/lapor")
    async with aiohttp.ClientSession() as session:
        # Nothing listens there any more: no connection is an outage, not a refusal.
        with pytest.raises(LaporUnavailable):
            await HttpLapor(session, gone, TOKEN).submit(complaint())


async def test_the_sandbox_reset_forgets_lapor_complaints_and_queued_failures() -> None:
    async with running_sandbox() as env:
        lapor = HttpLapor(env.session, env.url("/lapor"), TOKEN)
        first = await lapor.submit(complaint())
        async with env.session.post(env.url("/lapor/_fake/fail"), json={"status": 503, "count": 2}):
            pass
        async with env.session.post(env.url("/_fake/reset")) as answer:
            assert "lapor" in (await answer.json())["reset"]
        async with env.session.get(env.url("/lapor/_fake/complaints")) as answer:
            assert (await answer.json())["complaints"] == []
        # The queued failures are gone, and the numbering starts again: a fresh LAPOR!.
        again = await lapor.submit(complaint())
        assert again.tracking_id == first.tracking_id == "LAPOR-000001"
        with pytest.raises(LaporRefused):
            await HttpLapor(env.session, env.url("/lapor"), "not-a-token").submit(complaint("ib3"))
