"""Exceptions raised by the Atera client and source.

The tree::

    AteraError                      base class: anything that went wrong talking to Atera
    ├── ConfigurationError          a setting is missing or invalid (nothing was requested)
    ├── TransportError              network failure or timeout that survived every retry
    └── ApiResponseError            Atera answered, but not with what we need
        ├── AuthenticationError     401/403: the API key is wrong, expired or lacks rights
        ├── NotFoundError           404: the ticket (or route) does not exist
        ├── RateLimitError          429 that survived every retry
        ├── ServerError             5xx that survived every retry
        └── PayloadError            the body is not the JSON envelope the contract promises
            └── PagingError         the server's paging cannot terminate (repeated pages)

Every message says what to do next, and none ever contains the API key: only the
request method and path (with query) are quoted, never headers.
"""

from __future__ import annotations

import httpx

API_KEY_HINT = (
    "set [sources.atera] api_key in .dlt/secrets.toml or the environment variable "
    "SOURCES__ATERA__API_KEY"
)


def describe_request(request: httpx.Request | None) -> str:
    """Return 'METHOD /path?query' for a request, without host or headers."""
    if request is None:
        return "request"
    url = request.url
    target = url.raw_path.decode("ascii", "replace")
    return f"{request.method} {target}"


class AteraError(Exception):
    """Base class of every error raised while talking to Atera."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class ConfigurationError(AteraError):
    """A setting is missing or invalid; fix the configuration and run again."""


class TransportError(AteraError):
    """The network failed or timed out on every retry."""


class ApiResponseError(AteraError):
    """Atera answered with an error status or an unusable body."""

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.status_code = status_code


class AuthenticationError(ApiResponseError):
    """401/403: the API key was rejected; retrying cannot help."""


class NotFoundError(ApiResponseError):
    """404: the ticket or route does not exist (a ticket may have been deleted)."""


class RateLimitError(ApiResponseError):
    """429 on every retry: lower the request rate or try again later."""


class ServerError(ApiResponseError):
    """5xx on every retry: Atera is failing; try again later."""


class PayloadError(ApiResponseError):
    """The response body is not the JSON the contract promises."""


class PagingError(PayloadError):
    """The server's paging would never end (for example it repeats a page)."""
