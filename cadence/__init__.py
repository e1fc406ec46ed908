"""The cadence: when a customer hears from us, as pure rules and functions.

`rules` (what admins can change, checked), `due` (when each kind of check-in
falls due), `quiet_hours` (the customer's night, in their zone) and `decisions`
(send, wait or suppress, with the reason). No database writes, no I/O: the
scheduler, the outbox and the admin pages all ask the same functions.
"""
