"""The platform API (Django REST framework) under ``/api/v1/``.

For the host platform's own frontend and CSM automation: session-authenticated
with CSRF, every account URL resolved by :class:`maestra_mcp.api.base.AccountAPIView`
through ``accounts.access`` (the same 404 for unknown, offboarded and not-yours
accounts as the pages), every write through the services the pages and the admin
use. It reads permissions, reporting and session logs, so it lives in the top layer.
"""
