"""Opt-out (stop), opt-in (start) and help requests.

Carriers act on a bare keyword only when it is the whole message, and so do
we: "STOP" opts out, "the courier didn't stop at my house" does not. A request
that can only mean "stop messaging me" ("please stop texting me", "wypisz
mnie", "не пишите мне больше") opts out wherever it stands, and wins over a
score in the same message: ignoring an opt-out costs more than re-asking.
"""

import re

from messaging.replies import vocabulary as v
from messaging.replies.text import fold_word

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
    rf"|{v.alternation(v.THAI_FILLERS)}(?![\u0e00-\u0e7f])|[^\w\u0e00-\u0e7f']|_"
)

# Requests that mean "stop messaging me" wherever they stand. Verbs that also
# take goods ("send", "wysyłać", "присылать", "ส่ง") count only with a message
# as their object or at the end of the clause: "stop sending me the wrong parts"
# is a complaint, not an opt-out.
_END = r"(?=\s*(?:[^\w\s']|\Z))"
_MESSAGES = (
    r"(?:texts|text messages|messages|sms|smses|surveys|emails|spam|notifications|"
    r"wiadomosci|smsow|smsy|ankiet|powiadomien|повідомлень|повідомлення|смс|розсилку|"
    r"сообщений|сообщения|рассылку|ข้อความ|เอสเอ็มเอส)"
)
_OPT_OUT_PHRASES = (
    r"stop asking(?: me)?",
    r"stop (?:all )?(?:texting|messaging|contacting|spamming|emailing)(?: me| us)?",
    rf"stop sending(?: me| us)?(?: (?:these|the|your|any|all|all these|all the|more))? {_MESSAGES}",
    rf"stop sending(?: me| us)?{_END}",
    rf"stop (?:the|these|your|all|all the|all your|all of these|all of your) {_MESSAGES}",
    r"(?:don't|dont|do not|never) (?:text|message|sms|contact|email|spam)(?: me| us)?"
    r"(?: any ?more| again| ever)?",
    rf"(?:don't|dont|do not|never) send(?: me| us)?(?: any ?more| more| these)? {_MESSAGES}",
    rf"(?:don't|dont|do not|never) (?:send|write)(?: to)?(?: me| us)"
    rf"(?: any ?more| again| ever|{_END})",
    rf"no more {_MESSAGES}",
    r"unsubscribe(?: me)?",
    r"(?:remove|delete|take) (?:me|my (?:number|phone number|phone|details|data|contact))"
    r" (?:off|from)(?: (?:your|the|this|all|all your)(?: mailing| contact| sms| texting)?"
    r" (?:list|lists|database|system))?",
    r"(?:remove|delete) my (?:number|phone number|details|data)",
    r"opt me out|opt out|opt-out",
    rf"(?:i )?(?:don't|dont|do not) want (?:to (?:get|receive) )?"
    rf"(?:any ?more |these |your |more )?{_MESSAGES}",
    # Polish, folded: no diacritics.
    r"wypisz(?:cie)? mnie|(?:mnie )?wypisuj(?:e|cie) (?:sie|mnie)",
    r"wypisac (?:sie|mnie)|mnie wypisac",
    r"nie (?:piszcie|pisz|pisac|spamujcie)(?: do mnie| mi| juz| wiecej)*",
    rf"nie (?:wysylajcie|wysylaj|przysylajcie|wysylac)(?: mi| juz| wiecej)*(?: {_MESSAGES}|{_END})",
    r"przesta(?:ncie|n) (?:mi |do mnie )?(?:pisac|spamowac)",
    rf"przesta(?:ncie|n) (?:mi )?wysylac(?: {_MESSAGES}|{_END})",
    r"usun(?:cie)? (?:mnie|moj numer|moje dane)(?: z (?:listy|bazy))?",
    rf"rezygnuje z (?:subskrypcji|{_MESSAGES})",
    rf"nie chce (?:wiecej |juz )?(?:dostawac |otrzymywac )?{_MESSAGES}",
    r"(?:dosc|koniec z) (?:wiadomosci|wiadomosciami|smsow|smsami|spamu|spamem)",
    # Ukrainian
    r"не (?:пишіть|пиши|турбуйте)(?: мені| більше| вже)*",
    rf"не (?:надсилайте|надсилай|шліть|присилайте)(?: мені| більше| вже)*(?: {_MESSAGES}|{_END})",
    r"більше не (?:пишіть|надсилайте|турбуйте)",
    r"відпиш(?:іть|и) мене|відписатися|відпишіться від мене",
    rf"припиніть (?:писати|розсилку|спам|надсилати(?: мені)? {_MESSAGES}|надсилати{_END})",
    r"видаліть (?:мене|мій номер)",
    rf"не хочу (?:більше )?(?:отримувати )?{_MESSAGES}",
    r"досить (?:писати|спаму|повідомлень)",
    # Russian
    r"не (?:пишите|пиши|беспокойте)(?: мне| больше| уже)*",
    rf"не (?:присылайте|присылай|отправляйте|шлите)(?: мне| больше| уже)*(?: {_MESSAGES}|{_END})",
    r"больше не (?:пишите|присылайте|беспокойте)",
    r"отпиш(?:ите|и) меня|отписаться",
    r"(?:прекратите|перестаньте) (?:писать|рассылку|спам)",
    rf"(?:прекратите|перестаньте) (?:присылать|слать)(?: мне)?(?: {_MESSAGES}|{_END})",
    r"удалите (?:меня|мой номер)",
    rf"не хочу (?:больше )?(?:получать )?{_MESSAGES}",
    rf"хватит (?:писать|спамить|спама|(?:присылать|слать)(?: мне)?(?: {_MESSAGES}|{_END}))",
    # Thai: no spaces, so the message object is what tells "ส่ง" (send) apart.
    r"ไม่ต้องส่ง(?:ข้อความ|sms|เอสเอ็มเอส)(?:มา)?(?:อีก)?(?:แล้ว)?|ไม่ต้องส่งมา(?:อีก)?(?:แล้ว)?",
    r"(?:เลิก|หยุด|อย่า)ส่ง(?:ข้อความ|sms|เอสเอ็มเอส|มา)(?:มา)?(?:อีก)?",
    r"ยกเลิก(?:การ)?(?:รับ|ส่ง)?(?:ข้อความ|sms|ข่าวสาร)",
    r"ไม่(?:ต้องการ|อยาก)?(?:ได้)?รับ(?:ข้อความ|sms|ข่าวสาร)",
    r"ไม่ต้องติดต่อ(?:มา)?(?:อีก)?",
)
_POLITE = r"(?:please|pls|plz|now|prosze|пожалуйста|будь ласка|กรุณา|ช่วย)"
_THAI_PARTICLES = rf"(?:{v.alternation(v.THAI_PARTICLES, 'ด้วย')})*"
_CONNECTOR = r"(?:but|and|so|ale|но|и|а|але|і|та|แต่|และ)"  # not "i", "a": "how do I unsubscribe"
_OPT_OUT = re.compile(rf"(?<!{_L})(?:{'|'.join(_OPT_OUT_PHRASES)})(?!{_L})")
# Taken in with the request so the comment keeps neither: "10 but please stop texting me".
_LEAD_IN = re.compile(rf"(?<!{_L}){_CONNECTOR}\s+(?:{_POLITE}\s*)?\Z|(?<!{_L}){_POLITE}\s*\Z")
_TRAIL = re.compile(rf"(?:[\s,]*(?<!{_L}){_POLITE}(?!{_L}))?{_THAI_PARTICLES}")
# "don't stop texting me", "nie wypisujcie mnie": a negated request is no request.
_NEGATIONS = (
    "don't", "dont", "do not", "can't", "cant", "cannot", "won't", "wont", "never", "not",
    "didn't", "didnt", "no need to", "nie", "не", "ні",
)  # fmt: skip
_NEGATED = re.compile(rf"(?<!{_L}){v.alternation(_NEGATIONS)}\s+\Z")


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


def opt_out_span(key: str) -> tuple[int, int] | None:
    """Where folded text `key` asks us to stop messaging, unless the request is negated."""
    for m in _OPT_OUT.finditer(key):
        window = max(0, m.start() - 24)
        if not _NEGATED.search(key, window, m.start()):
            lead_in = _LEAD_IN.search(key, window, m.start())
            trail = _TRAIL.match(key, m.end())
            return (lead_in.start() if lead_in else m.start()), (trail.end() if trail else m.end())
    return None


_EXACT, _PHRASES = _compile_whole()
_LONGEST_WHOLE_MESSAGE = 80  # "please start sending me messages again 🙏🙏", with room to spare
_DIGIT = re.compile("[0-9]")
