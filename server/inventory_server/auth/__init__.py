"""Who is calling and what they may do: principals, bearer tokens, the policy.

- ``principals``: the principal of a verified client certificate, the bearer token of a call;
- ``tokens``: JWT verification against a JWKS file (``INVENTORY_JWT_*``);
- ``policy``: the YAML policy (``INVENTORY_AUTH_POLICY_FILE``): roles of permissions, bindings;
- ``watched``: files reloaded when they change (JWKS, policy), keeping the last good content;
- ``authorizer``: the above combined into one identity per call.

The gRPC edge is ``api.auth.AuthInterceptor``; docs/security.md describes the contract.
"""
