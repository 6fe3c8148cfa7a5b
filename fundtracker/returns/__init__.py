"""Monitoring returns: the workbook the OPCC receives, its submission and lock, narratives,
evidence and reading returns back.

The Python API the desktop Returns page calls (each function opens its own unit of work):

- ``submission.export_return(db, grant, period, out, prepared_by=..., submit=...)``
- ``submission.reopen_return(db, grant, period, reason)``, ``submission.list_returns(db, grant)``
- ``narratives.set_narrative(db, grant, period, code, values)``, ``narratives.get_narratives``
- ``evidence.attach(db, spend_line_id, path)``, ``evidence.write_evidence_pack(db, grant,
  period, out)``
- ``reader.read_return(path)``: a workbook back into the report's JSON shape

docs/RETURNS.md describes the workbook, the lock and how an auditor checks a checksum.
"""
