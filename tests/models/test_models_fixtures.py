"""Every fixture structures into the right model, and every field comes out as expected.

Each expected value below is written out in full, so equality checks every field.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tests.support.fixture_files import fixture
from truelayer_async import _converter as conv
from truelayer_async.errors import MalformedResponseError
from truelayer_async.models import (
    Account,
    AccountBalance,
    AccountHolder,
    AccountNumber,
    AccountType,
    ActionNeeded,
    AsyncStatus,
    AsyncTask,
    AsyncWebhook,
    BatchAccountResult,
    BatchCardResult,
    BatchRequestWindow,
    BatchResults,
    BatchResultsContent,
    Card,
    CardBalance,
    CardTransaction,
    ConsentStatus,
    DirectDebit,
    DirectDebitStatus,
    ExtendResult,
    Info,
    InfoAddress,
    Me,
    Provider,
    ProviderAvailability,
    ProviderInfo,
    ProviderStep,
    ProviderStepField,
    ProviderStepValue,
    RunningBalance,
    StandingOrder,
    StandingOrderStatus,
    Transaction,
    TransactionCategory,
    TransactionType,
    VerificationReport,
    VerificationResult,
)

UTC = timezone.utc
BST = timezone(timedelta(hours=1))
IST = timezone(timedelta(hours=5, minutes=30))
LLOYDS_LOGO = "https://auth.truelayer.com/img/banks/banks-icons/lloyds-icon.svg"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def test_me() -> None:
    assert conv.structure_results(fixture("me.json"), Me) == [
        Me(
            client_id="sandbox-acme-1a2b3c",
            credentials_id="6L7RxyPKX0THy1tw93PB4V+8DB+KjnX9Pxa451yXPu0=",
            consent_status=ConsentStatus.AUTHORISED,
            consent_status_updated_at=utc(2020, 5, 24, 15, 44, 40, 77000),
            consent_created_at=utc(2020, 5, 24, 14, 44, 40, 77000),
            consent_expires_at=utc(2020, 8, 22, 14, 44, 40, 77000),
            provider=ProviderInfo(
                provider_id="lloyds", display_name="Lloyds Bank", logo_uri=LLOYDS_LOGO
            ),
            scopes=("info", "accounts", "balance", "transactions", "cards", "offline_access"),
            privacy_policy="Feb2019",
            provider_id=None,
        )
    ]


def test_me_older_minimal_form() -> None:
    body = {"results": [{"client_id": "c", "credentials_id": "k", "provider_id": "mock"}]}
    assert conv.structure_results(body, Me) == [
        Me(client_id="c", credentials_id="k", provider_id="mock")
    ]


def test_info() -> None:
    assert conv.structure_results(fixture("info.json"), Info) == [
        Info(
            full_name="John Doe",
            update_timestamp=utc(2020, 11, 19, 9, 30),
            emails=("joe.doe@example.com",),
            phones=("+447777123456",),
            branch_id="stet-caisse-d-epargne-normandie",
            date_of_birth=None,
            addresses=None,
        )
    ]


def test_info_legacy_fields() -> None:
    assert conv.structure_results(fixture("info_legacy.json"), Info) == [
        Info(
            full_name="John Doe",
            update_timestamp=utc(2017, 2, 7, 17, 29, 24, 740802),
            emails=("john@example.com",),
            phones=("02079460581",),
            branch_id=None,
            date_of_birth=date(1984, 7, 3),
            addresses=(
                InfoAddress(
                    address="1 Example Street",
                    city="London",
                    state="Greater London",
                    zip="N1 1AA",
                    country="GBR",
                ),
            ),
        )
    ]


def test_accounts() -> None:
    accounts = conv.structure_results(fixture("accounts.json"), Account)
    assert accounts == [
        Account(
            account_id="f1234560abf9f57287637624def390871",
            update_timestamp=utc(2017, 2, 7, 17, 29, 24, 740802),
            display_name="Club Lloyds",
            currency="GBP",
            account_number=AccountNumber(
                iban="GB35LOYD12345678901234",
                number="12345678",
                sort_code="12-34-56",
                swift_bic="LOYDGB2L",
                routing_number=None,
                bsb=None,
            ),
            provider=ProviderInfo(
                provider_id="lloyds", display_name="Lloyds Bank", logo_uri=LLOYDS_LOGO
            ),
            account_type=AccountType.TRANSACTION,
            description=None,
        ),
        Account(
            account_id="6a21c1c0883d43fa79b3f74b32416788",
            update_timestamp=utc(2022, 5, 9, 17, 29, 24, 740802),
            display_name="Easy Saver Account",
            currency="AUD",
            account_number=AccountNumber(
                number="453122497078355", bsb="112879", swift_bic="NOT_SUPPORTED_BY_PROVIDER"
            ),
            provider=ProviderInfo(provider_id="st-george-aus"),
            account_type=AccountType.SAVINGS,
        ),
        Account(
            account_id="0b0a2c7e51d94a3c9f6e8d7c6b5a4f3e",
            update_timestamp=datetime(2024, 1, 1, 10, 0, tzinfo=IST),
            display_name="Business Checking",
            currency="USD",
            account_number=AccountNumber(number="000123456789", routing_number="021000021"),
            provider=ProviderInfo(provider_id="mock"),
            account_type=AccountType.BUSINESS_TRANSACTION,
            description="Legacy description",
        ),
    ]
    assert accounts[2].update_timestamp.utcoffset() == timedelta(hours=5, minutes=30)


def test_balance() -> None:
    [balance] = conv.structure_results(fixture("balance.json"), AccountBalance)
    assert balance == AccountBalance(
        currency="GBP",
        current=Decimal("1161.2"),
        available=Decimal("2150.8"),
        overdraft=Decimal("1000"),
        update_timestamp=utc(2017, 2, 7, 17, 33, 30, 1222),
    )
    assert type(balance.overdraft) is Decimal  # the JSON integer 1000 became a Decimal


def test_transactions() -> None:
    transactions = conv.structure_results(fixture("transactions.json"), Transaction)
    assert transactions == [
        Transaction(
            transaction_id="03c333979b729315545816aaa365c33f",
            timestamp=utc(2018, 3, 6),
            description="GOOGLE PLAY STORE",
            amount=Decimal("-2.99"),
            currency="GBP",
            transaction_type=TransactionType.DEBIT,
            transaction_category=TransactionCategory.PURCHASE,
            transaction_classification=("Entertainment", "Games"),
            normalised_provider_transaction_id="txn-ajdifh38fheu5hgue",
            provider_transaction_id="9882ks-00js",
            merchant_name="Google play",
            running_balance=RunningBalance(amount=Decimal("1238.60"), currency="GBP"),
            meta={"bank_transaction_id": "9882ks-00js", "provider_transaction_category": "DEB"},
        ),
        Transaction(
            transaction_id="3484333edb2078e77cf2ed58f1dec11e",
            timestamp=utc(2024, 1, 1, 0, 0, 0, 123457),
            description="CARD PAYMENT TO CORNER SHOP",
            amount=Decimal("-12.40"),
            currency="GBP",
            transaction_type=TransactionType.DEBIT,
            transaction_category=TransactionCategory.PURCHASE,
            transaction_classification=("Shopping", "Groceries"),
            normalised_provider_transaction_id="txn-2jdh8whf8w9rh3udh",
            provider_transaction_id="33b5555724",
            merchant_name="Corner Shop",
            running_balance=RunningBalance(amount=Decimal("12345678901234567.89"), currency="GBP"),
            meta={
                "provider_transaction_category": "POS",
                "provider_reference": "REF-77",
                "provider_merchant_name": "CORNER SHOP LTD",
                "provider_category": "Groceries",
                "address": "1 High Street",
                "provider_id": "ob-example",
                "counter_party_preferred_name": "Corner Shop",
                "counter_party_iban": "GB29NWBK60161331926819",
                "user_comments": "milk",
                "debtor_account_name": "J DOE",
                "transaction_type": "PURCHASE",
                "provider_transaction_id": "33b5555724",
                "provider_source": "MASTER_CARD",
            },
        ),
        Transaction(
            transaction_id="1289224494752e396fd21a496c34aa96",
            timestamp=utc(2022, 3, 1),
            description="TFR WESTPAC",
            amount=Decimal("100"),
            currency="AUD",
            transaction_type=TransactionType.CREDIT,
            transaction_category=TransactionCategory.TRANSFER,
            transaction_classification=(),
            normalised_provider_transaction_id=None,
            provider_transaction_id=None,
            merchant_name=None,
            running_balance=None,
            meta=None,
        ),
    ]
    # The literal's exponent is kept: -12.40 prints as -12.40, 1238.60 as 1238.60.
    assert str(transactions[1].amount) == "-12.40"
    assert str(transactions[0].running_balance.amount) == "1238.60"  # type: ignore[union-attr]


def test_pending_transactions() -> None:
    assert conv.structure_results(fixture("pending_transactions.json"), Transaction) == [
        Transaction(
            transaction_id="a15d8156569ba848d84c07c34d291bca",
            timestamp=datetime(2024, 4, 28, 9, 15, 2, 123000, tzinfo=BST),
            description="CONTACTLESS COFFEE",
            amount=Decimal("-0.1"),
            currency="GBP",
            transaction_type=TransactionType.DEBIT,
            transaction_category=TransactionCategory.UNKNOWN,
        )
    ]


def test_standing_orders() -> None:
    assert conv.structure_results(fixture("standing_orders.json"), StandingOrder) == [
        StandingOrder(
            frequency="IntrvlMnthDay:01:26",
            timestamp=utc(2019, 7, 24, 11, 29, 47, 414000),
            status=StandingOrderStatus.ACTIVE,
            currency="GBP",
            meta={"provider_account_id": "12345ca1-18fd-4e6b-891e-0597cac6bb8c"},
            next_payment_date=utc(2019, 7, 26),
            next_payment_amount=Decimal("500.00"),
            first_payment_date=utc(2019, 6, 26),
            first_payment_amount=Decimal("0"),
            final_payment_date=utc(9999, 12, 31),
            final_payment_amount=Decimal("0.00"),
            payee="JOHN DOE",
            reference="Savings",
            previous_payment_timestamp=utc(2019, 6, 26),
            previous_payment_amount=Decimal("500"),
        ),
        StandingOrder(
            frequency="EvryWorkgDay",
            timestamp=utc(2019, 7, 24, 11, 29, 47, 416000),
            status=StandingOrderStatus.INACTIVE,
        ),
    ]


def test_standing_order_amounts_as_numbers_like_the_spec_examples() -> None:
    body = {
        "results": [
            {
                "frequency": "QtrDay",
                "timestamp": "2019-07-24T11:29:47.414+00:00",
                "next_payment_amount": 500,
                "first_payment_amount": Decimal("12.50"),
                "final_payment_amount": "0",
            }
        ]
    }
    [order] = conv.structure_results(body, StandingOrder)
    assert order.next_payment_amount == Decimal(500)
    assert str(order.first_payment_amount) == "12.50"
    assert order.final_payment_amount == Decimal(0)


def test_direct_debits() -> None:
    assert conv.structure_results(fixture("direct_debits.json"), DirectDebit) == [
        DirectDebit(
            direct_debit_id="004ea8ce16b6ff57090b7bf8c7b483a1",
            timestamp=datetime(2019, 7, 19, 17, 28, 37, 798000, tzinfo=BST),
            name="EE",
            meta={
                "provider_mandate_identification": "6",
                "provider_account_id": "1000000000000000001",
                "provider_direct_debit_id": "DD-0006",
            },
            status=DirectDebitStatus.ACTIVE,
            previous_payment_timestamp=datetime(2018, 9, 17, tzinfo=BST),
            previous_payment_amount=Decimal("25"),
            currency="GBP",
        ),
        DirectDebit(
            direct_debit_id="8e5dfbc5b4d66c8aff248e9ca6440c55",
            timestamp=datetime(2019, 7, 19, 17, 28, 37, 805000, tzinfo=BST),
            name="PAYPAL",
            meta={
                "provider_mandate_identification": "9",
                "provider_account_id": "1000000000000000001",
            },
            status=DirectDebitStatus.INACTIVE,
            previous_payment_timestamp=datetime(2019, 7, 18, tzinfo=BST),
            previous_payment_amount=Decimal("4.99"),
            currency="GBP",
        ),
    ]


def test_cards() -> None:
    assert conv.structure_results(fixture("cards.json"), Card) == [
        Card(
            account_id="f7b093437032c216d4350b7d442b9c5ccc0e9f19",
            card_network="VISA",
            card_type="CREDIT",
            currency="GBP",
            display_name="Club Credit Card",
            partial_card_number="0044",
            name_on_card="A. N. Other",
            valid_from="2017-01",
            valid_to="2018-01",
            update_timestamp=utc(2017, 2, 7, 17, 29, 24, 740802),
            provider=ProviderInfo(provider_id="lloyds"),
        ),
        Card(
            account_id="ad86fb1c213245b6b6594895068973efca5f9367",
            card_network="MASTERCARD",
            card_type="CHARGE",
            currency="GBP",
            display_name="Club Charge Card",
            partial_card_number="0055",
            name_on_card=None,
            valid_from=None,
            valid_to=None,
            update_timestamp=utc(2017, 2, 7, 17, 29, 24, 740802),
            provider=ProviderInfo(provider_id="lloyds"),
        ),
    ]


def test_card_balance() -> None:
    assert conv.structure_results(fixture("card_balance.json"), CardBalance) == [
        CardBalance(
            current=Decimal("20"),
            available=Decimal("3279.00"),
            currency="GBP",
            credit_limit=Decimal("3300"),
            last_statement_balance=Decimal("420.10"),
            last_statement_date=date(2017, 1, 28),
            payment_due=Decimal("5.5"),
            payment_due_date=date(2017, 2, 24),
            update_timestamp=utc(2017, 2, 24, 17, 29, 24, 740802),
        )
    ]


def test_card_transactions() -> None:
    assert conv.structure_results(fixture("card_transactions.json"), CardTransaction) == [
        CardTransaction(
            transaction_id="a15d8156569ba848d84c07c34d291bca",
            timestamp=utc(2018, 1, 16),
            description="SAINSBURYS SMRKT STORE 128",
            amount=Decimal("24.25"),
            currency="GBP",
            transaction_type=TransactionType.DEBIT,
            transaction_category=TransactionCategory.PURCHASE,
            transaction_classification=("Shopping", "Groceries"),
            normalised_provider_transaction_id="txn-ajdifh38fheu5hgue",
            provider_transaction_id="9882ks-00js",
            merchant_name="Sainsburys",
            running_balance=RunningBalance(amount=Decimal("1238.6"), currency="GBP"),
            meta={"cardNumber": "1234********5678", "location": "INTERNET"},
        ),
        CardTransaction(
            transaction_id="af4d5470cc7ad6a83a02335ab8053481",
            timestamp=utc(2018, 3, 19),
            description="REFUND TALKTALK TELECOM",
            amount=Decimal("-46.82"),
            currency="GBP",
            transaction_type=TransactionType.CREDIT,
            transaction_category=TransactionCategory.CORRECTION,
            transaction_classification=("Bills and Utilities", "Internet"),
            meta={
                "provider_transaction_category": "CRE",
                "cardNumber": "1234********5678",
                "location": "INTERNET",
            },
        ),
    ]


def test_card_transactions_without_transaction_type_decode_with_none() -> None:
    # Some card providers leave transaction_type out; one such item must not reject the list.
    first, second = conv.structure_results(
        fixture("card_transactions_without_type.json"), CardTransaction
    )
    assert first.transaction_type is None
    assert first.amount == Decimal("19.99") and first.meta == {"cardNumber": "3742********1005"}
    assert second.transaction_type is TransactionType.CREDIT
    assert "transaction_type" not in conv.unstructure(first)


def test_account_transactions_still_require_transaction_type() -> None:
    with pytest.raises(MalformedResponseError) as caught:
        conv.structure_results(fixture("card_transactions_without_type.json"), Transaction)
    assert caught.value.path == "$.results[0].transaction_type"


def test_card_and_account_transactions_are_distinct_types() -> None:
    [card_txn, _] = conv.structure_results(fixture("card_transactions.json"), CardTransaction)
    assert not isinstance(card_txn, Transaction)
    assert type(card_txn) is CardTransaction


def test_verification_result() -> None:
    assert conv.structure(fixture("verification_result.json"), VerificationResult) == (
        VerificationResult(
            verified=True,
            account_holder_name="Jack Johnson",
            match_score=89,
            failure_code=None,
            failure_description=None,
            report=(
                VerificationReport(
                    verifiable=True,
                    currency="GBP",
                    provider_id="ob-monzo",
                    account_type="CURRENT",
                    account_holders=(
                        AccountHolder(name="Jack Johnson", verified=True, match_score=89),
                    ),
                    display_name="1st Account",
                    iban="GB71MONZ04435141923452",
                    swift_bic="MONZGB21",
                    account_number="41921234",
                    sort_code="04-01-02",
                ),
                VerificationReport(
                    verifiable=False,
                    failure_code="CREDIT_CARD",
                    failure_description="Credit cards cannot be verified by this service.",
                    provider_id="ob-monzo",
                    account_type="CREDIT_CARD",
                    display_name="Gold card",
                ),
            ),
        )
    )


def test_verification_result_failed() -> None:
    assert conv.structure(fixture("verification_result_failed.json"), VerificationResult) == (
        VerificationResult(
            verified=False,
            failure_code="NO_VERIFIABLE_ACCOUNTS",
            failure_description="None of the accounts could be verified.",
            report=(),
        )
    )


def test_providers() -> None:
    availability = ProviderAvailability(
        recommended_status="healthy", updated_at=utc(2023, 5, 23, 10, 11, 54, 501000)
    )
    assert conv.structure_list(fixture("providers.json"), Provider) == [
        Provider(
            provider_id="mock",
            display_name="Mock",
            country="uk",
            logo_url="https://truelayer-provider-assets.s3.amazonaws.com/global/logos/mock.svg",
            scopes=("accounts", "balance", "cards", "info", "transactions", "offline_access"),
            steps=None,
            availability=availability,
        ),
        Provider(
            provider_id="stet-credit-agricole",
            display_name="Crédit Agricole",
            country="fr",
            logo_url=(
                "https://truelayer-provider-assets.s3.amazonaws.com/fr/logos/credit-agricole.svg"
            ),
            scopes=("info", "accounts", "balance", "transactions", "offline_access"),
            steps=(
                ProviderStep(
                    title="OAuthRedirect",
                    fields=(
                        ProviderStepField(
                            type="SingleChoiceField",
                            id="branch-name",
                            display_name="Branch Name",
                            help_text="Please select a branch",
                            mandatory=True,
                            values=(
                                ProviderStepValue(
                                    value="stet-banque-chalus", display_name="Banque Chalus"
                                ),
                                ProviderStepValue(
                                    value="stet-credit-agricole-alsace-vosges",
                                    display_name="Crédit Agricole Alsace Vosges",
                                ),
                            ),
                        ),
                        ProviderStepField(
                            type="FreeInputField",
                            id="customer-number",
                            display_name="Customer number",
                            help_text="The number on your bank card",
                            mandatory=False,
                            is_sensitive=False,
                            values=None,
                            validations=({"regex": "^[0-9]{8}$", "message": "8 digits"},),
                            allowed_characters="numeric",
                        ),
                    ),
                ),
            ),
            availability=availability,
        ),
    ]


def test_async_accepted() -> None:
    assert conv.structure(fixture("async_accepted.json"), AsyncTask) == AsyncTask(
        results_uri="https://api.truelayer.com/data/v1/results/18a77ae5-a30b-4955-b840-301daddd180a",
        task_id="18a77ae5-a30b-4955-b840-301daddd180a",
        status=AsyncStatus.QUEUED,
    )


def test_async_webhook() -> None:
    task = "2b6f0c1e-8d3a-4e59-9a77-0c4f1d2e3b4a"
    assert conv.structure(fixture("async_webhook.json"), AsyncWebhook) == AsyncWebhook(
        task_id=task,
        status=AsyncStatus.SUCCEEDED,
        results_uri=f"https://api.truelayer.com/data/v1/results/{task}",
        request_timestamp=utc(2024, 5, 1, 10, 5, 12),
        request_uri=(
            "https://api.truelayer.com/data/v1/accounts?async=true"
            "&webhook_uri=https://example.invalid/hook"
        ),
        credentials_id="q7nS0r4Vd1Q2y9mZ8kq3T0a1bC2dE3fG4hI5jK6lM7=",
    )


def test_extend_no_action_needed() -> None:
    result = conv.structure(fixture("extend_no_action_needed.json"), ExtendResult)
    assert result == ExtendResult(
        action_needed=ActionNeeded.NO_ACTION_NEEDED,
        user_input_link=None,
        access_token="eyJhbGciOiJSUzI1NiJ9.FIXTURE-ACCESS-TOKEN.sig",
        refresh_token="FIXTURE-REFRESH-TOKEN-9C1F",
        expires_in=3600,
        token_type="Bearer",
    )
    assert "FIXTURE" not in repr(result)
    assert "FIXTURE" not in str(result)


def test_extend_authentication_needed() -> None:
    result = conv.structure(fixture("extend_authentication_needed.json"), ExtendResult)
    assert result == ExtendResult(
        action_needed=ActionNeeded.AUTHENTICATION_NEEDED,
        user_input_link="https://bank.example/authorize?client_id=abc&state=auth-xyz",
    )
    assert result.access_token is None
    assert result.refresh_token is None
    assert result.expires_in is None
    assert result.token_type is None


def test_extend_reconfirmation_of_consent_needed() -> None:
    result = conv.structure(fixture("extend_reconfirmation_of_consent_needed.json"), ExtendResult)
    assert result == ExtendResult(
        action_needed=ActionNeeded.RECONFIRMATION_OF_CONSENT_NEEDED,
        user_input_link="https://login.truelayer.com/?session_id=auth-abc123",
    )


def test_batch_results() -> None:
    assert conv.structure(fixture("batch_results.json"), BatchResults) == BatchResults(
        status=AsyncStatus.SUCCEEDED,
        task_id="0cf3fca2-e64e-4a35-8280-7c5bd7b5dc43",
        request=BatchRequestWindow(from_=utc(2019, 5, 10), to=utc(2019, 5, 20)),
        results=BatchResultsContent(
            accounts=(
                BatchAccountResult(
                    account_id="a467e5319ddc9ad99846465bd6f0127e",
                    transactions=(
                        Transaction(
                            transaction_id="1647dc2acf12438d8c348a379b85814a",
                            timestamp=utc(2019, 5, 10),
                            description="EDF ENERGY",
                            amount=Decimal("-24.5"),
                            currency="GBP",
                            transaction_type=TransactionType.DEBIT,
                            transaction_category=TransactionCategory.UNKNOWN,
                            transaction_classification=("Bills and Utilities", "Utilities"),
                            merchant_name="EDF ENERGY",
                        ),
                    ),
                    pending_transactions=(),
                    balance=AccountBalance(
                        currency="GBP",
                        current=Decimal("200.12"),
                        available=Decimal("200.12"),
                        overdraft=Decimal("0"),
                        update_timestamp=utc(2019, 5, 20),
                    ),
                ),
            ),
            cards=(
                BatchCardResult(
                    account_id="f7b093437032c216d4350b7d442b9c5ccc0e9f19",
                    transactions=(),
                    pending_transactions=(
                        CardTransaction(
                            transaction_id="a15d8156569ba848d84c07c34d291bca",
                            timestamp=utc(2019, 5, 20),
                            description="SAINSBURYS SMRKT STORE 128",
                            amount=Decimal("24.25"),
                            currency="GBP",
                            transaction_type=TransactionType.DEBIT,
                            transaction_category=TransactionCategory.PURCHASE,
                            meta={"cardNumber": "1234********5678", "location": "INTERNET"},
                        ),
                    ),
                    balance=CardBalance(current=Decimal("1.0")),
                ),
            ),
        ),
    )


def test_envelope_status_is_kept() -> None:
    envelope = conv.structure_envelope(fixture("balance.json"), AccountBalance)
    assert envelope.status is AsyncStatus.SUCCEEDED
    assert len(envelope.results) == 1
    without = conv.structure_envelope({"results": []}, AccountBalance)
    assert without.status is None
    assert without.results == []
    running = conv.structure_envelope({"results": [], "status": "Running"}, AccountBalance)
    assert running.status is AsyncStatus.RUNNING
