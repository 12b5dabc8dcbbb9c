"""The two API shapes the sandbox can serve, and their old names.

``contract``
    The ticket contract this project was specified from: the paging envelope
    with ``totalItems``, ``statusmodified?modifiedAfter=``, ``CommentID``,
    ``X-API-KEY`` auth and ``{"message": ...}`` errors.

``published``
    Atera's published OpenAPI v3 description: ``totalItemCount``/``nextLink``
    paging, ``lastmodified?date=``, id-less comments, ``workhoursrecords``,
    ProblemDetails errors and Bearer keys.

Both serve the same data. The shapes used to be called ``seed`` and ``v3``;
:func:`normalize_api_shape` still accepts those names, with a
:class:`DeprecationWarning`.
"""

from __future__ import annotations

import warnings

CONTRACT = "contract"
PUBLISHED = "published"
#: Every API shape, the default first.
API_SHAPES = (CONTRACT, PUBLISHED)
#: Old name -> API shape (the old ``dialect`` values).
DEPRECATED_NAMES = {"seed": CONTRACT, "v3": PUBLISHED}


def normalize_api_shape(value: str, *, stacklevel: int = 2) -> str:
    """The API shape a name means.

    Args:
        value: An API shape (``contract``, ``published``) or an old name
            (``seed``, ``v3``).
        stacklevel: Passed to :func:`warnings.warn`, so the warning points at the
            caller that used the old name (2 = the caller of this function).

    Returns:
        ``contract`` or ``published``.

    Raises:
        ValueError: When ``value`` is neither, naming the allowed values.
    """
    if value in API_SHAPES:
        return value
    if value in DEPRECATED_NAMES:
        shape = DEPRECATED_NAMES[value]
        warnings.warn(
            f"API shape {value!r} is deprecated: use {shape!r}",
            DeprecationWarning,
            stacklevel=stacklevel,
        )
        return shape
    raise ValueError(f"api_shape must be one of {', '.join(API_SHAPES)} (got {value!r})")
