"""One publisher worker's refresher, alone in its process, for the kill tests.

    python -m tests.integration.refresh_worker VAULT TOKEN_URL ACCOUNT PLATFORM [TOPIC GROUP]

The key comes from ``WARTA_CREDENTIALS_KEY``, as in a deployment. With TOPIC and GROUP the worker
shares its credentials through that credentials topic on ``KAFKA_BOOTSTRAP_SERVERS`` as a
publisher does (its vault then stands for its own host). Runs until SIGTERM, then prints its
counts as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from services.publisher.credentials.refresher import Refresher, http_refresh
from services.publisher.credentials.sharing import shared_credentials
from shared.credentials.keys import keyring, load_keys
from shared.credentials.vault import CredentialVault
from shared.kafka import make_producer


async def main(vault_path: str, token_url: str, account: str, platform: str, *shared: str) -> None:
    vault = CredentialVault(Path(vault_path), keyring(load_keys(os.environ["WARTA_CREDENTIALS_KEY"], None)))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        session = await stack.enter_async_context(
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        )
        sharing = None
        if shared:
            kafka = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
            producer = make_producer(kafka, "test-refresh-worker")
            await producer.start()
            stack.push_async_callback(producer.stop)
            sharing = await stack.enter_async_context(
                shared_credentials(kafka, shared[0], shared[1], vault, producer, session_timeout_ms=6000)
            )
        refresher = Refresher(
            vault,
            http_refresh(session),
            lambda: datetime.now(UTC),
            token_urls={account: token_url},
            platform_of={account: platform},
            sharing=sharing,
        )
        print("ready", flush=True)
        await refresher.run([account], stop, interval_s=0.1)
    print(
        json.dumps({"refreshes": refresher.refreshes[platform], "parked": refresher.parked[platform]}),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
