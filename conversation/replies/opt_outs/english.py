"""Opt-out requests in English."""

from conversation.replies.opt_outs.grammar import (
    END,
    Lexicon,
    any_of,
    from_list,
    opt,
    request,
    sending_verbs,
    some,
    tail,
    words,
)

_EN = Lexicon(
    me=words(
        "me", "us", "this number", "my number", "this phone", "my phone", "on this number",
        "at this number", "to this number", "on my number",
    ),
    more=words(
        "any more", "anymore", "again", "ever again", "ever", "already", "now", "please",
        "pls", "plz", "at all", "for good", "from now on",
    ),
    det=words(
        "the", "these", "those", "this", "your", "ur", "any", "any more", "anymore", "more",
        "all", "all these", "all the", "all your", "all of these", "all of your", "all of the",
        "such", "further", "other",
    ),
    messages=words(
        "texts", "text messages", "txts", "messages", "msgs", "sms", "smses", "sms messages",
        "surveys", "emails", "e-mails", "spam", "notifications", "reminders", "questionnaires",
    ),
    things=words("these", "those", "them", "this", "it", "anything", "this stuff", "stuff"),
    calls=rf"{words('calling', 'ringing', 'phoning', 'call', 'ring', 'phone')}{opt(words('me', 'us'))} {words('and', 'or', '&')}",
)  # fmt: skip
_STOP = words("stop", "quit", "cease")
_TEXTING = words(
    "texting", "txting", "texing", "msging", "msg'ing", "messaging", "messageing",
    "contacting", "emailing", "e-mailing", "spamming", "smsing", "sms-ing", "writing to",
)  # fmt: skip
_BOTHERING = words("bothering", "pestering", "harassing", "hassling", "bugging")
_DO_NOT = words("don't", "dont", "do not")
_DONT = words("don't", "dont", "do not", "never")
_NO_LONGER = words("don't", "dont", "do not", "no longer")
_CONTACT = words(
    "text", "txt", "msg", "message", "sms", "contact", "email", "e-mail", "spam", "write to",
)  # fmt: skip
_MINE = words(
    "me", "us", "my number", "my phone number", "my phone", "my cell", "my mobile",
    "my details", "my data", "my contact details", "my info", "this number",
)  # fmt: skip
_NUMBER = words("my number", "my phone number", "my details", "my data", "this number")
_LIST = (
    f"{opt(words('your', 'ur', 'the', 'this', 'all', 'all your', 'our', 'any'))}"
    f"{opt(words('mailing', 'contact', 'sms', 'text', 'texting', 'marketing', 'messaging', 'call', 'calling', 'distribution', 'survey'))}"
    f" {words('list', 'lists', 'database', 'system', 'records', 'contacts')}"
)
_PREPOSITION = words("from", "off", "out of", "on", "in", "of")
PHRASES = (
    r"stop asking(?: me)?",  # "Stop asking, 10"
    request(_EN, _STOP, contacting=_TEXTING, sending=words("sending", "sendin")),
    f"{words('stop', 'cancel', 'end')}{opt(_EN.det)} {_EN.messages}",
    f"{_STOP} {_BOTHERING}{opt(words('me', 'us'))} with{opt(_EN.det)} {_EN.messages}",
    f"{_DONT}{some(_EN.more)}{opt(_EN.calls)} {_CONTACT}(?: {_EN.me}{tail(_EN)}(?! back)|{tail(_EN)}{END})",
    sending_verbs(_EN, f"{_DONT}{some(_EN.more)} send"),
    f"no more {_EN.messages}",
    r"unsubscribe(?: me| us)?|unsub(?: me| us)|opt(?: me| us)? ?-?out(?! of)",
    f"opt(?: me| us)? out of{opt(_EN.det)} {any_of(_EN.messages, words('this', 'these', 'it', 'everything', 'all of this'))}",
    f"{words('remove', 'delete', 'erase', 'scrub', 'take')} {_MINE} {words('off', 'from', 'out of')}{from_list(_EN, _LIST)}",
    f"{words('remove', 'delete', 'erase', 'scrub')} {_NUMBER}(?! {_PREPOSITION} )",
    f"lose {words('my number', 'this number', 'my phone number', 'my details')}",
    f"(?:(?:i|we) )?{_DO_NOT} {words('want', 'need', 'wish to receive', 'wanna get')}"
    f"{some(_EN.more)}(?: to {words('get', 'receive')})?{opt(_EN.det)} {_EN.messages}",
    f"(?:(?:i|we) )?{_NO_LONGER} {words('want', 'wish')} to be"
    f" {words('contacted', 'texted', 'messaged', 'emailed', 'spammed')}",
    f"{words('withdraw', 'revoke', 'rescind', 'retract')}{opt(words('my', 'all', 'any'))} consent",
    f"(?:i )?{_NO_LONGER} consent"
    f"(?: to{opt(_EN.det)} {_EN.messages}| to being {words('contacted', 'texted', 'messaged')}|{END})",
    r"cease and desist",
)
LIKELY = (
    f"{words('enough with', 'enough of', 'enough', 'done with', 'sick of', 'tired of', 'sick and tired of', 'fed up with', 'had enough of')}"
    f"{opt(_EN.det)} {_EN.messages}",
    f"{_STOP} {_BOTHERING} {words('me', 'us')}",
    f"{_DO_NOT} {words('bother', 'pester', 'harass')} {words('me', 'us')}",
    f"leave {words('me', 'us')} {words('alone', 'in peace', 'be')}",
    words("fuck off", "piss off", "sod off", "bugger off"),
    f"{words('remove', 'delete')} {words('me', 'us')}(?! {_PREPOSITION} )",
)
