"""Deterministic, streamed, multilingual synthetic CRM data for the sandbox emulators.

Entry points: ``generate.generate`` / ``generate.truths`` (record stream, ground truth) and
``files.write_dataset`` / ``files.read_dataset`` (folders of JSON lines). See ``README.md``.
"""
