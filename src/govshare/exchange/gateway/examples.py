"""Ready-to-run calls of the gateway for integrators: the ``curl`` line of a grant, written once for
the demo's printout (``gateway.demo``) and the integrator's page of each grant (``exchange.pages``).

The purpose goes percent-encoded (UTF-8) in ``X-Govshare-Purpose``, as the gateway reads it; the
items the grant allows go in ``items``. A verify-only grant (核验) gets the ``/verify`` call with a
claim to check instead, since it never returns data.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from urllib.parse import quote

from govshare.exchange.gateway.app import PREFIX

#: Stands for the key where the page cannot show one (keys are stored only as digests).
KEY_PLACEHOLDER = "$GOVSHARE_API_KEY"


def curl_line(
    base: str,
    *,
    resource_code: str,
    purpose: str,
    items: Sequence[str],
    key: str = KEY_PLACEHOLDER,
    verify_only: bool = False,
    key_item: str | None = None,
    path: str | None = None,
    limit: int = 5,
) -> str:
    """One shell line calling the gateway at ``base`` for ``resource_code`` with this purpose:
    a hosted dataset's rows (the granted ``items``), a verification, or a proxied API's ``path``."""
    url = f"{base.rstrip('/')}{PREFIX}/{resource_code}"
    headers = f'-H "X-API-Key: {key}" -H "X-Govshare-Purpose: {quote(purpose)}"'
    if verify_only:
        claims = [i for i in items if i != key_item][:1]
        body = {
            "key_item": key_item or (items[0] if items else ""),
            "key_value": "…",
            "claims": {c: "…" for c in claims},
        }
        return (
            f'curl -X POST "{url}/verify" {headers} -H "Content-Type: application/json" '
            f"--data {shlex.quote(json.dumps(body, ensure_ascii=False))}"
        )
    if path is not None:
        return f'curl "{url}/{path.lstrip("/")}" {headers}'
    return f'curl -G "{url}" {headers} --data-urlencode "items={",".join(items)}" -d limit={limit}'
