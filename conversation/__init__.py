"""The conversation with a person: what arrived, who wrote it, and what we answer.

`inbound` is the one door every message comes in by (webhooks, the Telegram
runtime, the simulator); `turn` is one message and what answering it needs;
`survey` scores and follows up; `optout`, `forwarding` and `linking` handle
STOP/START, words for a human, and the Telegram deep link; `replies/` reads free
text in five languages; `telegram_bot` runs the Telegram side; `provider_events`
takes delivery reports. It sits above escalation (it opens escalations and
alerts reps) and messaging (it queues its answers in the outbox).
"""
