"""Tenancy and roles: another company's admin on this company's objects and lists
(``auth.tenant.objects``, ``auth.tenant.lists``), a member on the operations the contract keeps for
admins (``auth.member.admin_only``).

The checks attack objects of the first company made for the purpose (:mod:`.planted`: a job, a
webhook, an API key, each carrying a marker only its own data holds) and judge "no data, no change":
no response shows the object's data, and its owner reads it back unchanged. The status of a refusal
is secondary (403 or 404 both keep the rule; 404, which does not tell the object exists, is
recommended).
"""
