"""Helpers shared by the tests: plain classes, functions and constants, no fixtures.

Fixtures stay in the ``conftest.py`` files; what they build comes from here. The clock
is the public ``truelayer_async.testing.FakeClock``.

* ``doubles``: ``RecordingSleep``, ``FailingStore``.
* ``binaries``: ``require_binary``.
* ``backends``: the anyio backends of the core and auth tests (asyncio and trio).
* ``token_endpoint``: the sandbox URLs and client of the auth tests, ``token_body``,
  ``token_response``, ``form_of``.
* ``reliability``: the reliability campaign's ``Secrets``, ``Guard``, ``TokenServer``, ….
* ``stores``: records, keys, ``DictStore`` and one harness per store backend.
* ``emulator``, ``cli``, ``examples``, ``browser``, ``served``: each test folder's own.
"""
