"""``FakeTrueLayer``'s drivers for merchant accounts, payouts and mandates (a mixin):
seed and credit accounts, run sweeps, decide and fail payouts, authorise and revoke
mandates. Each takes ``state.lock`` and applies
what is due on the clock first."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import _payments
    from ._payments._ledger import MerchantAccount
    from ._payments._mandates import Mandate
    from ._payments._payouts import Payout
    from ._state import FakeState

__all__ = ["LedgerDrivers"]


class LedgerDrivers:
    """Merchant-account, payout and mandate drivers of :class:`FakeTrueLayer`."""

    _state: FakeState
    _payments: _payments.PaymentsApi

    def _account(self, merchant_account_id: str) -> MerchantAccount:
        self._payments.store.tick()
        account = self._payments.store.ledger.find(merchant_account_id)
        if account is None:
            raise LookupError(f"no merchant account {merchant_account_id!r}")
        return account

    def _payout(self, payout_id: str) -> Payout:
        payout = self._payments.payouts.find(payout_id)
        if payout is None:
            raise LookupError(f"no payout {payout_id!r}")
        return payout

    def merchant_account_id(self, currency: str = "GBP") -> str:
        """The id of the seeded merchant account in ``currency`` (GBP, EUR or PLN)."""
        with self._state.lock:
            for account in self._payments.store.ledger.all():
                if account.currency == currency:
                    return account.id
        raise LookupError(f"no merchant account in {currency!r}")

    def merchant_account_balance(self, merchant_account_id: str) -> int:
        """The account's current balance (minor units)."""
        with self._state.lock:
            return self._account(merchant_account_id).balance

    def credit_merchant_account(
        self, merchant_account_id: str, amount_in_minor: int, *, reference: str = "Top up"
    ) -> str:
        """A bank transfer into the account from outside TrueLayer (an
        ``external_payment`` transaction, settled now); returns the transaction id."""
        if isinstance(amount_in_minor, bool) or amount_in_minor < 1:
            raise ValueError("amount_in_minor must be at least 1")
        with self._state.lock:
            account = self._account(merchant_account_id)
            ledger = self._payments.store.ledger
            now = self._state.clock()
            return ledger.external_payment(account, amount_in_minor, now, reference=reference).id

    def seed_transactions(
        self, merchant_account_id: str, count: int, *, spacing: float = 60.0
    ) -> None:
        """Add ``count`` ``external_payment`` credits of 1.00, ``spacing`` seconds apart,
        the last one now (for pagination tests)."""
        if count < 0 or spacing <= 0:
            raise ValueError("count must be >= 0 and spacing > 0")
        with self._state.lock:
            account = self._account(merchant_account_id)
            start = self._state.clock() - (count - 1) * spacing
            self._payments.store.ledger.seed(account, count, start, spacing)

    def run_sweep(self, merchant_account_id: str) -> int:
        """Sweep now (sweeping must be set up): returns the amount withdrawn (0 when the
        balance is at or below the threshold)."""
        with self._state.lock:
            account = self._account(merchant_account_id)
            if account.sweeping is None:
                raise ValueError(f"sweeping is not set up for {merchant_account_id!r}")
            swept = self._payments.store.ledger.sweep(account, self._state.clock())
            return swept.amount_in_minor if swept is not None else 0

    def authorize_payout(self, payout_id: str, outcome: str = "authorized") -> str:
        """Answer for the user of a verified (user-determined) payout, as the payouts
        hosted page would: ``"authorized"``, ``"account_not_valid"`` or
        ``"internal_error"``. Returns the payout's status."""
        with self._state.lock:
            payout = self._payout(payout_id)
            self._payments.payouts.decide(payout, outcome)
            return payout.status

    def fail_payout(self, payout_id: str, reason: str = "scheme_error") -> str:
        """Fail a payout: a waiting one now; an ``executed`` one is returned (pass
        ``"returned"``) and its money credited back. Returns the status."""
        with self._state.lock:
            payout = self._payout(payout_id)
            if payout.status == "failed":
                raise ValueError(f"payout {payout_id} has already failed")
            self._payments.payouts.fail(payout, reason)
            return payout.status

    def authorize_mandate(self, mandate_id: str, outcome: str = "authorized") -> str:
        """Answer for the bank, as the mock bank's mandate page would: ``"authorized"``,
        or a failure (``"authorization_failed"``, ``"provider_rejected"``,
        ``"canceled"``). The mandate must be ``authorization_required`` or
        ``authorizing``. Returns its status."""
        with self._state.lock:
            mandate = self._mandate(mandate_id)
            self._payments.mandates.decide(mandate, outcome)
            return mandate.status

    def revoke_mandate(self, mandate_id: str) -> str:
        """The user revokes an authorized mandate at their bank (``revocation_source``
        ``provider``). Returns its status."""
        with self._state.lock:
            mandate = self._mandate(mandate_id)
            self._payments.mandates.revoke(mandate, "provider")
            return mandate.status

    def _mandate(self, mandate_id: str) -> Mandate:
        mandate = self._payments.mandates.find(mandate_id)
        if mandate is None:
            raise LookupError(f"no mandate {mandate_id!r}")
        return mandate

    def payout_status(self, payout_id: str) -> str:
        """A payout's status, after applying the transitions due on the clock."""
        with self._state.lock:
            return self._payout(payout_id).status
