"""Helpers shared by the tests: plain classes, functions and constants, no fixtures.

Fixtures stay in the ``conftest.py`` files; what they build comes from here (one
exception: ``signed_payments``' fixtures, which three folders' conftests re-export). The
clock is the public ``truelayer_async.testing.FakeClock``.

* ``doubles``: ``RecordingSleep``, ``FailingStore``.
* ``binaries``: ``require_binary``.
* ``backends``: the anyio backends of the core and auth tests (asyncio and trio).
* ``token_endpoint``: the sandbox URLs and client of the auth tests, ``token_body``,
  ``token_response``, ``form_of``.
* ``reliability``: the reliability campaign's ``Secrets``, ``Guard``, ``TokenServer``, ….
* ``stores``: records, keys, ``DictStore`` and one harness per store backend.
* ``emulator``, ``cli``, ``examples``, ``browser``, ``served``: each test folder's own.
* ``processes``: ``REPO``, ``free_port``, ``child_env`` (the repository on PYTHONPATH).
* ``polling``: ``wait_for``. ``webhook_receiver``: ``RawReceiver``.
* ``doc_blocks``: the README's and the docs' marked code blocks. ``clean_checkout``: a copy
  of the repository and a newcomer's clean environment.
* ``fastapi_example``: ``examples/fastapi_app.py`` as a process, walked over HTTP.
* ``flights``: holding a refresh at an await point and cancelling its caller (issue #15).
* ``signing_keys``: ``new_key``. ``sdk_payments``: SDK payment inputs.
  ``payments_schema``: bodies checked against payments-api-v3.json.
* ``raw_payments``: ``Payments``, a signed, schema-checked raw Payments v3 client.
  ``raw_payouts``, ``raw_mandates``: raw-HTTP payouts and mandates on the emulator.
  ``payout_pages``: the hosted payouts page walked over HTTP.
* ``data_api``: the Data API tests' base URL, fixtures and 200 answer.
* ``e2e``: the end-to-end tests' ``fresh_emulator`` and ``session_on``.
* ``fixture_files``: ``tests/fixtures`` as bytes or decoded as the SDK decodes.
* ``auth_links``: ``auth_link``, a hand-built link to the emulator's consent dialog.
* ``openapi``: TrueLayer's OpenAPI documents with their errata, ``spec``; ``payouts_openapi``:
  the payouts and mandates variant checks.
* ``signed_payments``: the ``key``, ``napping`` and ``tl`` fixtures of the payments,
  payouts and Data API v3 service tests (re-exported by their conftests), ``API``,
  ``grant``, ``signed_by``, ``problem``.
* ``payment_samples``, ``payout_samples``: Payments v3 response bodies.
* ``signing_vectors``: the request-signing test vectors.
"""
