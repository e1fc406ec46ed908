"""What other systems send in through the write API: upserts, deliveries, consent, idempotency.

Plain functions of a session and `now`, no HTTP: the rows go through the CSV
import's own checks and writes (importing.import_rows), a delivery through the
scheduler's planner, consent through the conversation's opt-out code. Web
handlers (web/writes.py) only translate.
"""
