"""Keeping each account's credential alive: refreshed before it expires, one refresher each.

The stored credential itself (record, keys, the encrypted vault, the secret store) is library
code the inbox reads too: ``shared/credentials``. Here: ``policy`` (when to refresh: pure,
``now`` passed in), ``token_client`` (the platforms' OAuth token endpoints), ``refresher`` (the
loop that keeps tokens alive), ``ownership`` (the accounts this worker refreshes: its partitions
of the credentials topic), ``sharing`` (refreshes written to and read from that topic),
``auth_retry`` (the one 401-retry rule), ``commands`` (the operator's connect / check /
rotate-key), ``meta_check`` (check's Graph calls for a Page token), ``sandbox_connect`` (the local
system's demo accounts connected through their flows), ``wiring`` (the refresher from the
settings).

Errors: the refresh branch of ``shared.credentials``' tree (RefreshError, RefreshTemporary,
RefreshRejected), named here too; a final refusal parks the account (``reason`` says why).
"""

from __future__ import annotations

# The refresh errors are raised by the token client, which the console's connect flow uses too:
# they live in ``shared.credentials`` and are named here, where the refresher handles them.
from shared.credentials import RefreshError as RefreshError
from shared.credentials import RefreshRejected as RefreshRejected
from shared.credentials import RefreshTemporary as RefreshTemporary
