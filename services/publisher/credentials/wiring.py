"""Builds one publisher's refresher from its channels; the vault and the secret store it reads
are opened by ``shared.credentials.opening``, as the inbox opens them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.publisher.credentials.refresher import RefreshCall, Refresher
from shared.channels import Channel
from shared.credentials.accounts import account_of as account_of  # re-exported: callers here
from shared.credentials.endpoints import token_url_for
from shared.credentials.vault import CredentialVault


def build_refresher(
    vault: CredentialVault,
    channels: list[Channel],
    call: RefreshCall,
    clock: Callable[[], datetime],
    on_result: Callable[[str, str], None] | None = None,
) -> Refresher:
    return Refresher(
        vault,
        call,
        clock,
        token_urls={account_of(c): token_url_for(c) for c in channels},
        platform_of={account_of(c): c.platform for c in channels},
        on_result=on_result,
    )
