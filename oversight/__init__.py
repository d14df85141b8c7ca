"""Oversight (issue #6): hazard ledger, statistics, rankings and notices, public transparency.

Plain Python on case metadata and enforcement records only: nothing here decrypts a report.
"""
