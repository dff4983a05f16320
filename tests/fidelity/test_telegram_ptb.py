"""The Telegram fake driven by python-telegram-bot, unchanged but for its base URL.

python-telegram-bot models every Bot API type (``telegram.constants.BOT_API_VERSION``); its
``de_json`` refuses a reply that lacks a field the type requires, and keeps fields it does not
know in ``api_kwargs``. Each reply the fake gives is parsed with it and must leave nothing
unknown. Each test names the Bot API section (core.telegram.org/bots/api) it exercises.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
import telegram
from telegram import Bot, Message, TelegramObject
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter

from sandbox.base import SlidingWindow
from sandbox.telegram import BOT_API_VERSION, TelegramState
from services.publisher.adapters.telegram import TelegramAdapter
from shared.events import Content, Media, Poll
from tests.integration.conftest_fakes import FakeEnv, publish_request, running_sandbox

# Telegram's own shape: ``<bot id>:<secret>``, the secret 35 characters of [A-Za-z0-9_-].
BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
CHANNEL = "@warta_demo"


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox({"demo": BOT_TOKEN}) as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> TelegramState:
    state = env.states["telegram"]
    assert isinstance(state, TelegramState)
    return state


@pytest.fixture
async def bot(env: FakeEnv) -> AsyncIterator[Bot]:
    async with Bot(BOT_TOKEN, base_url=env.url("/telegram/bot")) as bot:  # initialize() calls getMe
        yield bot


def _unknown_fields(obj: object, path: str = "") -> list[str]:
    """Every field the typed model kept in ``api_kwargs``: a field the Bot API does not define."""
    found: list[str] = []
    if isinstance(obj, TelegramObject):
        found += [f"{path}.{key}" for key in obj.api_kwargs]
        for name in obj.__slots__ if hasattr(obj, "__slots__") else ():
            found += _unknown_fields(getattr(obj, name, None), f"{path}.{name}")
    elif isinstance(obj, tuple | list):
        for k, item in enumerate(obj):
            found += _unknown_fields(item, f"{path}[{k}]")
    return found


def _strict(obj: TelegramObject) -> TelegramObject:
    assert _unknown_fields(obj) == []
    return obj


def _parse_message(raw: dict[str, Any]) -> Message:
    message = Message.de_json(raw, None)
    _strict(message)
    return message


def test_the_fake_answers_as_the_bot_api_version_the_client_models() -> None:
    # Bot API changelog: the fake's types are those of the version python-telegram-bot targets.
    assert telegram.constants.BOT_API_VERSION == BOT_API_VERSION


async def test_get_me_returns_the_bot_whose_id_is_the_token_prefix(bot: Bot) -> None:
    # Bot API "getMe" and type "User".
    me = await bot.get_me()
    _strict(me)
    assert me.id == 123456789
    assert me.is_bot
    assert me.can_join_groups is not None  # fields only getMe returns
    assert bot.id == 123456789  # Bot.id comes from getMe


async def test_send_message_returns_a_channel_message_with_a_numeric_chat_id(bot: Bot) -> None:
    # Bot API "sendMessage", types "Message" and "Chat" (chat.id is an Integer).
    message = await bot.send_message(CHANNEL, "Info banjir")
    _strict(message)
    assert isinstance(message.chat.id, int)
    assert str(message.chat.id).startswith("-100")
    assert message.chat.username == "warta_demo"
    assert message.sender_chat == message.chat
    assert message.text == "Info banjir"
    assert message.link == f"https://t.me/warta_demo/{message.message_id}"


async def test_a_channel_named_by_id_and_by_username_is_one_chat(bot: Bot) -> None:
    # Bot API "sendMessage": chat_id is "Integer or String"; both name the same channel.
    by_name = await bot.send_message(CHANNEL, "a")
    by_id = await bot.send_message(by_name.chat.id, "b")
    assert by_id.chat.id == by_name.chat.id


async def test_send_photo_returns_photo_sizes_the_client_accepts(bot: Bot, env: FakeEnv) -> None:
    # Bot API "sendPhoto", type "PhotoSize" (file_unique_id, width and height are required).
    async with env.session.get(env.media_url("peta.png")) as resp:
        image = await resp.read()
    message = await bot.send_photo(CHANNEL, image, caption="Peta")
    _strict(message)
    assert message.caption == "Peta"
    assert message.photo[-1].file_unique_id
    assert message.photo[-1].file_size == len(image)


async def test_send_poll_returns_a_poll_with_the_current_fields(bot: Bot) -> None:
    # Bot API "sendPoll", types "Poll" and "PollOption" as of BOT_API_VERSION.
    message = await bot.send_poll(CHANNEL, "Jam layanan?", ["Pagi", "Sore"], is_anonymous=True)
    _strict(message)
    poll = message.poll
    assert poll is not None
    assert [o.text for o in poll.options] == ["Pagi", "Sore"]
    assert (poll.total_voter_count, poll.is_closed, poll.type) == (0, False, "regular")
    # Fields the Bot API marks as always present but the client keeps optional for older servers.
    assert (poll.allows_revoting, poll.members_only) == (False, False)
    assert all(o.persistent_id for o in poll.options)


async def test_stop_poll_returns_the_stopped_poll_with_its_votes(bot: Bot, state: TelegramState) -> None:
    # Bot API "stopPoll": "On success, the stopped Poll is returned"; types "Poll", "PollOption".
    message = await bot.send_poll(CHANNEL, "Jam layanan?", ["Pagi", "Sore"], is_anonymous=True)
    state.posts[-1].data["votes"] = [7, 3]
    poll = await bot.stop_poll(CHANNEL, message.message_id)
    _strict(poll)
    assert poll.is_closed
    assert [(o.text, o.voter_count) for o in poll.options] == [("Pagi", 7), ("Sore", 3)]
    assert poll.total_voter_count == 10
    assert message.poll is not None
    assert poll.id == message.poll.id
    with pytest.raises(BadRequest, match=r"(?i)poll has already been closed"):
        await bot.stop_poll(CHANNEL, message.message_id)
    text = await bot.send_message(CHANNEL, "no poll here")
    with pytest.raises(BadRequest, match=r"(?i)message with poll to stop not found"):
        await bot.stop_poll(CHANNEL, text.message_id)


async def test_flood_wait_is_a_retry_after_with_its_seconds(
    bot: Bot, state: TelegramState, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bot API "Making requests" (ResponseParameters.retry_after) and the bots FAQ on flood limits.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # the client's future type, without its warning
    state.per_chat = SlidingWindow(1, timedelta(minutes=1))
    await bot.send_message(CHANNEL, "first")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHANNEL, "second")
    retry_after = caught.value.retry_after
    assert isinstance(retry_after, timedelta)  # PTB_TIMEDELTA=1: seconds as a timedelta
    assert retry_after.total_seconds() > 0


async def test_bad_requests_and_refusals_map_to_the_clients_errors(bot: Bot, env: FakeEnv) -> None:
    # Bot API "Making requests": error_code 400 → BadRequest, 401/404 → InvalidToken, 403 → Forbidden.
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message("not-a-chat", "x")
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(CHANNEL, "x" * 4097)
    await env.admin(
        "telegram",
        "faults",
        {
            "path_contains": "sendMessage",
            "status": 403,
            "body": {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot is not a member of the channel chat",
            },
        },
    )
    with pytest.raises(Forbidden):
        await bot.send_message(CHANNEL, "x")
    other = Bot("123456789:AAwrongwrongwrongwrongwrongwrongwro", base_url=env.url("/telegram/bot"))
    with pytest.raises(InvalidToken):
        await other.initialize()  # the client's start: getMe, 401
    await other.shutdown()


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        ("left", Forbidden, "(?i)not a member"),
        ("kicked", Forbidden, "(?i)was kicked"),
        ("member", BadRequest, "(?i)need administrator rights"),
        ("administrator-readonly", BadRequest, "(?i)need administrator rights"),
    ],
)
async def test_a_bot_without_the_right_to_post_is_refused_as_the_client_expects(
    bot: Bot, state: TelegramState, status: str, error: type[Exception], words: str
) -> None:
    state.bot_status[CHANNEL] = status  # the fake's own state, not an injected fault
    with pytest.raises(error, match=words):
        await bot.send_message(CHANNEL, "x")
    assert not state.posts


async def test_the_adapters_replies_and_requests_follow_the_bot_api(
    env: FakeEnv, state: TelegramState
) -> None:
    # Bot API "sendMessage", "sendPhoto", "sendPoll": the adapter's parameters are ones the
    # client's methods take, and what the fake answered parses as a Message.
    adapter = TelegramAdapter(env.session)
    target = env.target("telegram", token=BOT_TOKEN, options={"chat_id": CHANNEL})
    media = (Media(url=env.media_url("peta.jpg"), type="image/jpeg"),)
    for content in (
        Content(text="Teks", link="https://example.go.id/a"),
        Content(text="Foto", media=media),
        Content(text="Jajak?", poll=Poll(question="Jajak?", options=("Ya", "Tidak"), duration_minutes=10)),
    ):
        published = await adapter.publish(target, publish_request(content))
        assert published.url is not None
    method_of: dict[str, Callable[..., object]] = {
        "sendmessage": Bot.send_message,
        "sendphoto": Bot.send_photo,
        "sendpoll": Bot.send_poll,
    }
    for post in state.posts:
        accepted = set(inspect.signature(method_of[post.data["method"]]).parameters)
        assert set(post.data["params"]) <= accepted, post.data["method"]
        raw = {k: v for k, v in post.data.items() if k not in ("method", "params")}
        _parse_message(json.loads(json.dumps(raw | {"date": 0})))
