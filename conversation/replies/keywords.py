"""Opt-out (stop), opt-in (start) and help keywords, and Telegram commands.

Carriers act on a bare keyword only when it is the whole message, and so do
we: "STOP" opts out, "the courier didn't stop at my house" does not. Requests
in a sentence ("please stop texting me") are read by conversation.replies.opt_outs.
"""

import re

from conversation.replies import vocabulary as v
from conversation.replies.text import fold_word

STOP, START, HELP = "stop", "start", "help"
_L = v.LETTER

# Matched on the folded text, not with re.IGNORECASE, which lets "ſtop" and
# "ınfo" through as "stop" and "info".
_COMMAND = re.compile(r"\s*/(start|stop|help|unsubscribe|info)(?:@\w+)?(?:\s+(.*?))?\s*", re.S)
_COMMANDS = {"start": START, "stop": STOP, "unsubscribe": STOP, "help": HELP, "info": HELP}

_WHOLE_MESSAGE = {
    STOP: (
        "stop", "stopall", "stop all", "stop it", "unsubscribe", "unsub", "cancel", "end",
        "quit", "revoke", "optout", "opt out", "remove", "remove me", "no more", "enough",
        "leave me alone", "stop bothering me", "stop calling me", "go away", "หยุดส่ง",
        "koniec", "wypisz", "rezygnuję", "rezygnacja", "anuluj", "wystarczy", "dość",
        "стоп", "відписатися", "відписка", "скасувати", "досить", "годі", "припиніть",
        "отписаться", "отписка", "отмена", "отменить", "хватит", "прекратите", "довольно",
        "หยุด", "ยกเลิก", "เลิก", "พอแล้ว", "พอ",
    ),
    START: (
        "start", "unstop", "yes", "subscribe", "resubscribe", "opt in", "optin",
        "start again", "wznów", "subskrybuj", "старт", "почати", "підписатися",
        "відновити", "начать", "подписаться", "возобновить", "เริ่ม", "สมัคร", "สมัครใหม่",
        "เริ่มใหม่",
    ),
    HELP: (
        "help", "help me", "info", "information", "who is this", "what is this",
        "who are you", "pomoc", "pomocy", "informacja", "kto to", "kto to jest", "допомога",
        "довідка", "інфо", "хто це", "допоможіть", "помощь", "справка", "инфо", "кто это",
        "помогите", "ช่วยด้วย", "ช่วยเหลือ", "ข้อมูล", "วิธีใช้", "ใคร",
    ),
}  # fmt: skip
# Phrases are matched against folded text: lower case, no Polish diacritics.
_WHOLE_PHRASES = {
    START: (
        r"(?:please )?(?:re)?subscribe me(?: again| back)?",
        r"sign me (?:back )?up(?: again)?",
        r"opt me (?:back )?in",
        r"(?:please )?start (?:sending|texting|messaging)(?: me)?(?: messages| texts)?(?: again)?",
        r"i want to (?:re)?subscribe(?: again)?",
        r"zapisz(?:cie)? mnie(?: ponownie| znowu| z powrotem)?",
        r"(?:chce )?(?:znowu|ponownie) (?:dostawac|otrzymywac) (?:wiadomosci|smsy)",
        r"підпишіть мене(?: знову)?",
        r"хочу (?:знову )?підписатися",
        r"подпишите меня(?: снова| обратно)?",
        r"хочу (?:снова )?подписаться",
        r"สมัคร(?:รับ)?(?:ข้อความ)?(?:ใหม่|อีกครั้ง)?",
        r"เริ่มส่ง(?:ข้อความ)?(?:ใหม่|อีกครั้ง)",
    ),
    HELP: (
        r"i need help",
        r"can you help(?: me)?",
        r"potrzebuje pomocy",
        r"pomoz(?:cie)?",
        r"потрібна допомога",
        r"нужна помощь",
        r"ต้องการความช่วยเหลือ",
    ),
}
# Words a keyword may come wrapped in: "STOP please!!!", "ok stop", "ยกเลิกครับ".
_URGENCY = ("now", "asap", "immediately", "teraz", "już", "сейчас", "зараз", "уже", "вже")
_NOISE = re.compile(
    rf"(?<!{_L}){v.alternation(v.FILLERS, _URGENCY)}(?!{_L})"
    rf"|{v.alternation(v.THAI_FILLERS)}+(?![\u0e00-\u0e7f])|[^\w\u0e00-\u0e7f']|_"
)


def _compile_whole() -> tuple[dict[str, str], re.Pattern[str]]:
    exact = {" ".join(_NOISE.sub(" ", fold_word(word)).split()): keyword
             for keyword, words in _WHOLE_MESSAGE.items() for word in words}  # fmt: skip
    phrases = "|".join(f"(?P<{kw}>{'|'.join(ps)})" for kw, ps in _WHOLE_PHRASES.items())
    return exact, re.compile(phrases)


def command(base: str, key: str) -> tuple[str, str] | None:
    """A Telegram command ("/stop", "/start TOKEN", "/help@Bot") as (keyword, argument).

    `key` is the folded `base`; the argument comes from `base`, as typed: a
    deep-link token is case-sensitive.
    """
    m = _COMMAND.fullmatch(key)
    if m is None:
        return None
    argument = base[m.start(2) : m.end(2)] if m.group(2) is not None else ""
    return _COMMANDS[m.group(1)], argument.strip()


def whole_message(key: str) -> str | None:
    """The keyword that `key` (folded text) is as a whole, give or take please and thanks."""
    if len(key.strip()) > _LONGEST_WHOLE_MESSAGE or _DIGIT.search(key):
        return None  # no keyword is long or holds a number: skip prose and ratings at once
    words = _NOISE.sub(" ", key).split()
    while len(words) > 1 and words[-1] == words[-2]:  # "STOP STOP STOP"
        words.pop()
    message = " ".join(words)
    keyword = _EXACT.get(message)
    if keyword is None and message:
        phrase = _PHRASES.fullmatch(message)
        keyword = phrase.lastgroup if phrase else None
    return keyword


_EXACT, _PHRASES = _compile_whole()
_LONGEST_WHOLE_MESSAGE = 80  # "please start sending me messages again 🙏🙏", with room to spare
_DIGIT = re.compile("[0-9]")
