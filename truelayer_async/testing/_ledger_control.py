"""Control routes for merchant accounts, payouts and mandates (``/_emulator/…``): the
drivers of :class:`~truelayer_async.testing._ledger_drivers.LedgerDrivers` over HTTP.
``LookupError`` answers 404, ``ValueError`` 400."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from ._body import read_json_object
from ._control_error import ControlError, as_control_errors

if TYPE_CHECKING:
    from ._fake import FakeTrueLayer

__all__ = ["handlers"]

Handler = Callable[[Request], Awaitable[Any]]


def handlers(fake: FakeTrueLayer) -> list[tuple[str, Handler, str]]:
    """(path, handler, method) of every route."""

    run = as_control_errors

    def number(body: dict[str, Any], name: str, default: Any = None) -> Any:
        value = body.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ControlError(f"{name} must be a number.")
        return value

    async def credit(request: Request) -> dict[str, Any]:
        body = await read_json_object(request)
        amount = int(number(body, "amount_in_minor"))
        options = {"reference": str(body["reference"])} if "reference" in body else {}
        account_id = request.path_params["id"]
        found = run(lambda: fake.credit_merchant_account(account_id, amount, **options))
        return {"transaction_id": found}

    async def seed(request: Request) -> dict[str, Any]:
        body = await read_json_object(request)
        count = int(number(body, "count"))
        spacing = float(number(body, "spacing", 60.0))
        run(lambda: fake.seed_transactions(request.path_params["id"], count, spacing=spacing))
        return {"count": count}

    async def sweep(request: Request) -> dict[str, Any]:
        return {"swept_in_minor": run(lambda: fake.run_sweep(request.path_params["id"]))}

    async def revoke_mandate(request: Request) -> dict[str, Any]:
        return {"status": run(lambda: fake.revoke_mandate(request.path_params["id"]))}

    def outcome_route(action: Callable[[str, str], str], name: str, default: str) -> Handler:
        async def handler(request: Request) -> dict[str, Any]:
            body = await read_json_object(request)
            value = body.get(name, default)
            if not isinstance(value, str):
                raise ControlError(f"{name} must be a string.")
            return {"status": run(lambda: action(request.path_params["id"], value))}

        return handler

    return [
        ("merchant-accounts/{id}/credit", credit, "POST"),
        ("merchant-accounts/{id}/seed", seed, "POST"),
        ("merchant-accounts/{id}/sweep", sweep, "POST"),
        (
            "payouts/{id}/authorize",
            outcome_route(fake.authorize_payout, "outcome", "authorized"),
            "POST",
        ),
        ("payouts/{id}/fail", outcome_route(fake.fail_payout, "reason", "scheme_error"), "POST"),
        (
            "mandates/{id}/authorize",
            outcome_route(fake.authorize_mandate, "outcome", "authorized"),
            "POST",
        ),
        ("mandates/{id}/revoke", revoke_mandate, "POST"),
    ]
