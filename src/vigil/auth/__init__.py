"""Identity and access: users, roles, tenants, sessions, API tokens and the route policy.

The data layer filters every read by an `AccessScope` built from the authenticated principal;
routes only decide who may call them. See docs/security.md.
"""
