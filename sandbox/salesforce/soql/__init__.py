"""A small SOQL implementation: tokenizer, recursive-descent parser and a compiler to predicates.

Covers the subset a CX sync uses (docs/crm-api-facts.md §2.3); anything else is a MALFORMED_QUERY
with the row/column of the offending token, as the real API reports it.
"""
