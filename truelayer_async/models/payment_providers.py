"""Payments v3 providers (``/v3/payments-providers``) and the provider-return result."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import attrs

from ._tagged import tagged_union

__all__ = [
    "PaymentsProvider",
    "ProviderReturnMandate",
    "ProviderReturnPayment",
    "ProviderReturnResource",
    "ProviderReturnResult",
    "UnknownProviderReturnResource",
]


@attrs.frozen(kw_only=True)
class PaymentsProvider:
    """A bank as the Payments API describes it.

    ``capabilities`` is the wire object as sent
    (``{"payments": {"bank_transfer": {"release_channel", "schemes", …}}, "mandates": …}``);
    :attr:`supports_bank_transfer` answers the common question.
    """

    id: str
    capabilities: dict[str, Any] = attrs.field(factory=dict)
    display_name: str | None = None
    icon_uri: str | None = None
    logo_uri: str | None = None
    bg_color: str | None = None
    country_code: str | None = None
    swift_code: str | None = None
    bin_ranges: tuple[dict[str, Any], ...] | None = None

    @property
    def supports_bank_transfer(self) -> bool:
        """Whether the provider can take ``bank_transfer`` payments."""
        payments = self.capabilities.get("payments")
        return isinstance(payments, dict) and "bank_transfer" in payments


@attrs.frozen(kw_only=True)
class ProviderReturnPayment:
    """The provider return belonged to a payment."""

    type: Literal["payment"] = "payment"
    payment_id: str


@attrs.frozen(kw_only=True)
class ProviderReturnMandate:
    """The provider return belonged to a mandate."""

    type: Literal["mandate"] = "mandate"
    mandate_id: str


@attrs.frozen(kw_only=True)
class UnknownProviderReturnResource:
    """A resource ``type`` this SDK version does not know (``raw`` has it)."""

    type: str
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


#: The resource a provider return names, told apart by ``type``.
ProviderReturnResource: TypeAlias = (
    ProviderReturnPayment | ProviderReturnMandate | UnknownProviderReturnResource
)
tagged_union(
    ProviderReturnResource,
    "type",
    {"payment": ProviderReturnPayment, "mandate": ProviderReturnMandate},
    UnknownProviderReturnResource,
)


@attrs.frozen(kw_only=True)
class ProviderReturnResult:
    """What ``POST /v3/payments-provider-return`` returns: the payment or mandate."""

    resource: ProviderReturnResource
