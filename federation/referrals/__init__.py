"""Referral importers: other bodies' referral formats turned into case summaries.

A referral arrives as the referring body wrote it (an NCMEC CyberTipline report, ...). An
importer maps each referral to a case summary v1.1 of the importing force, keeps the
referral's own reference and receipt time, and says per referral what it could not map. The
summaries then go the way every force system's do (`Ingest`, with the caller's token), so
authentication, limits, validation and the audit all apply.
"""
