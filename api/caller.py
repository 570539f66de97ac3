"""The address the request came from, as the network saw it.

Under Zappa it is API Gateway's `requestContext.identity.sourceIp`; elsewhere (the local
server, tests) the socket's peer. Never X-Forwarded-For: a client can write anything there.
"""

from __future__ import annotations

from flask import has_request_context, request


def caller_ip() -> str | None:
    """The caller's IP address; None outside a request or when nothing names one."""
    if not has_request_context():
        return None
    event = request.environ.get("lambda.event") or {}
    source = ((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp")
    return str(source or request.remote_addr or "") or None
