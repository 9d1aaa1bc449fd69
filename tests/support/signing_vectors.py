"""TrueLayer's published signing test vectors (TEST-ONLY keys; truelayer-signing test-resources).

TV-1: an API request; TV-2: a synthetic webhook; TV-3: a real sandbox webhook whose JWK
``y`` coordinate encodes 65 bytes.
"""

from __future__ import annotations

KID = "45fc75cf-5649-4134-84b3-192c2c78e990"

PRIVATE_PEM = """-----BEGIN EC PRIVATE KEY-----
MIHcAgEBBEIBMJmRfU/nMzOnBnA6zXgdfpF6uWfYvOBCM4lUoxFDSFS6nqO3+X+R
42GJ8OzKzLr9+Iq238CL+2Bxw14f3jqiTtCgBwYFK4EEACOhgYkDgYYABACgu5bi
cWqhS5Hx3sVWxSgjraWJth1CVYa0tK2ep250tj3ZtDStrl5kBuS6esZNH37D2avi
jYS3JvqkLtgHb7bdYwF9XI5BjIpbYpD65F+PasLiQ3XBE2k7I/pMhT/I7BfVuVwA
d2eLQYkLXO9g0JyWHisgFf0+qmU7RSha/k6eIrvo+w==
-----END EC PRIVATE KEY-----
"""

PUBLIC_PEM = """-----BEGIN PUBLIC KEY-----
MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQAoLuW4nFqoUuR8d7FVsUoI62libYd
QlWGtLStnqdudLY92bQ0ra5eZAbkunrGTR9+w9mr4o2Etyb6pC7YB2+23WMBfVyO
QYyKW2KQ+uRfj2rC4kN1wRNpOyP6TIU/yOwX1blcAHdni0GJC1zvYNCclh4rIBX9
PqplO0UoWv5OniK76Ps=
-----END PUBLIC KEY-----
"""

JWKS = {
    "keys": [
        {
            "kty": "RSA",
            "alg": "RS512",
            "kid": "db2e0bb4-e33d-4fc6-a8c5-645e70331127",
            "n": "AQAB",
            "e": "AQAB",
        },
        {
            "kty": "EC",
            "alg": "ES512",
            "kid": KID,
            "crv": "P-521",
            "x": "oLuW4nFqoUuR8d7FVsUoI62libYdQlWGtLStnqdudLY92bQ0ra5eZAbkunrGTR9-w9mr4o2Etyb6pC7YB2-23WM",  # noqa: E501
            "y": "AX1cjkGMiltikPrkX49qwuJDdcETaTsj-kyFP8jsF9W5XAB3Z4tBiQtc72DQnJYeKyAV_T6qZTtFKFr-Tp4iu-j7",  # noqa: E501
        },
    ]
}

TV1_PATH = "/merchant_accounts/a61acaef-ee05-4077-92f3-25543a11bd8d/sweeping"
TV1_IDEMPOTENCY_KEY = "idemp-2076717c-9005-4811-a321-9e0787fa0382"
TV1_BODY = b'{"currency":"GBP","max_amount_in_minor":5000000,"name":"Foo???"}'
TV1_SIGNATURE = (
    "eyJhbGciOiJFUzUxMiIsImtpZCI6IjQ1ZmM3NWNmLTU2NDktNDEzNC04NGIzLTE5MmMyYzc4ZTk5MCIsInRsX3Zl"
    "cnNpb24iOiIyIiwidGxfaGVhZGVycyI6IklkZW1wb3RlbmN5LUtleSJ9..AEXUHJ9eXGRYyXjjXkAyp4vALl7vMB6D"
    "78-frHcH2eV641SU9Q8LMqm77jDYUxuJYP_1Rg0l8-dLRVtWNDTFY_JYABXE6MEv3qSbyXnKrYMKIeDzG86lj9VLZXK"
    "RfWjNeBpGN983kW69Dc71yNapGTPMbB49Rue5bLIAjm6LLwDP00D_"
)
TV1_PAYLOAD_B64 = (
    "UE9TVCAvbWVyY2hhbnRfYWNjb3VudHMvYTYxYWNhZWYtZWUwNS00MDc3LTkyZjMtMjU1NDNhMTFiZDhkL3N3ZWVwaW5n"
    "CklkZW1wb3RlbmN5LUtleTogaWRlbXAtMjA3NjcxN2MtOTAwNS00ODExLWEzMjEtOWUwNzg3ZmEwMzgyCnsiY3VycmVu"
    "Y3kiOiJHQlAiLCJtYXhfYW1vdW50X2luX21pbm9yIjo1MDAwMDAwLCJuYW1lIjoiRm9vPz8_In0"
)

TV2_PATH = "/tl-webhook"
TV2_TIMESTAMP = "2021-11-29T11:42:55Z"
TV2_BODY = b'{"event_type":"example","event_id":"18b2842b-a57b-4887-a0a6-d3c7c36f1020"}'
TV2_JKU = "https://webhooks.truelayer.com/.well-known/jwks"
TV2_SIGNATURE = (
    "eyJhbGciOiJFUzUxMiIsImtpZCI6IjQ1ZmM3NWNmLTU2NDktNDEzNC04NGIzLTE5MmMyYzc4ZTk5MCIsInRsX3Zl"
    "cnNpb24iOiIyIiwidGxfaGVhZGVycyI6IlgtVGwtV2ViaG9vay1UaW1lc3RhbXAsQ29udGVudC1UeXBlIiwiamt1Ijoi"
    "aHR0cHM6Ly93ZWJob29rcy50cnVlbGF5ZXIuY29tLy53ZWxsLWtub3duL2p3a3MifQ..AB9S1dzZTmw0tofUjJNGO7Kt"
    "_jZsahPyIrBTdhfxBWOI3KoLALkMy6ka1MjpZQx06_hQUJnanu9K_LS6V9lNaNGiAX5Cos5RWQfbeBCZWqAvIpXO3FvI"
    "zyJKRaTYK8FBG4lfJYPi76_pIkCLGKWeq8__7ElpMVRcLTM5IBKWL8isVZn_"
)

TV3_KID = "d3534b83-bdc7-4066-adb5-c8d4bf616601"
TV3_JKU = "https://webhooks.truelayer-sandbox.com/.well-known/jwks"
TV3_JWKS = {
    "keys": [
        {"kty": "RSA", "kid": "c9034c0f-bd06-4dd1-98fe-f67a5a1a0601", "n": "AQAB", "e": "AQAB"},
        {
            "kty": "EC",
            "alg": "ES512",
            "kid": TV3_KID,
            "crv": "P-521",
            "x": "AQO9n3CGUtsvQEWivE7KTkbaqY-xxsa0EPhplLxj0Nak6dS400ug0VhMqgTXfyc3nV3UA7Mz7x5dDL13YyUtfiOq",  # noqa: E501
            "y": "fRU9nhcoS3FUZD7UzBUt9AOOpShMlV8yXC3VXn0FTRB7ySDqZnr1th0ZYnt0uihMDKYKB0-TrptWg1hgA75aeiI",  # noqa: E501
        },
    ]
}
TV3_PATH = "/a147f26a-f07e-47e3-9526-d52f1f1fdd55"
TV3_TIMESTAMP = "2023-06-09T15:40:30Z"
TV3_BODY = (
    b'{"type":"payment_executed","event_version":1,"event_id":"2606ed6d-5c89-4bd9-8f95-40e42c95ca71",'
    b'"payment_id":"a62ba556-4b35-4628-9d8c-42302d2e5d02","payment_method":{"type":"bank_transfer",'
    b'"provider_id":"mock-payments-gb-redirect","scheme_id":"faster_payments_service"},'
    b'"executed_at":"2023-06-09T15:40:30.561Z","payment_source":{"account_identifiers":'
    b'[{"type":"sort_code_account_number","sort_code":"040668","account_number":"00000871"}],'
    b'"account_holder_name":"JOHN SANDBRIDGE"}}'
)
TV3_SIGNATURE = (
    "eyJhbGciOiJFUzUxMiIsImtpZCI6ImQzNTM0YjgzLWJkYzctNDA2Ni1hZGI1LWM4ZDRiZjYxNjYwMSIsInRsX3Zl"
    "cnNpb24iOiIyIiwidGxfaGVhZGVycyI6IngtdGwtd2ViaG9vay10aW1lc3RhbXAiLCJqa3UiOiJodHRwczovL3dlYmhv"
    "b2tzLnRydWVsYXllci1zYW5kYm94LmNvbS8ud2VsbC1rbm93bi9qd2tzIn0..AVKH1WQK4Z4tIF3I-gU1AkLI7o4Dk-Z"
    "pALG7rKuMPQdksVwzUVBa8zq3LdvV2SHNzlH50NhGVYi-j4nC8G23Qd5UAW8DCvMB1ynTBVE_3vKzbmbfh8Dg3TAPvZCd"
    "ajQiDLrLJp5iiUtcRgML2EI_zt9SEAkpIaSxFU8DHnMm8CN3YEQT"
)
