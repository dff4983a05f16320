"""One publisher worker's refresher, alone in its process, for the kill tests.

    python -m tests.integration.refresh_worker VAULT TOKEN_URL ACCOUNT PLATFORM

The key comes from ``WARTA_CREDENTIALS_KEY``, as in a deployment. Runs until SIGTERM, then
prints its counts as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from services.publisher.credentials.refresher import Refresher, http_refresh
from shared.credentials.keys import keyring, load_keys
from shared.credentials.vault import CredentialVault


async def main(vault_path: str, token_url: str, account: str, platform: str) -> None:
    vault = CredentialVault(Path(vault_path), keyring(load_keys(os.environ["WARTA_CREDENTIALS_KEY"], None)))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        refresher = Refresher(
            vault,
            http_refresh(session),
            lambda: datetime.now(UTC),
            token_urls={account: token_url},
            platform_of={account: platform},
        )
        print("ready", flush=True)
        await refresher.run([account], stop, interval_s=0.1)
    print(
        json.dumps({"refreshes": refresher.refreshes[platform], "parked": refresher.parked[platform]}),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
