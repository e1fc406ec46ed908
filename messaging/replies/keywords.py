"""Opt-out (stop), opt-in (start) and help requests.

Carriers act on a bare keyword only when it is the whole message, and so do
we: "STOP" opts out, "the courier didn't stop at my house" does not. A request
that can only mean "stop messaging me" ("please stop texting me", "wypisz
mnie", "не пишите мне больше") opts out wherever it stands, and wins over a
score in the same message: ignoring an opt-out costs more than re-asking.
"""

import re
from typing import NamedTuple

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
    rf"|{v.alternation(v.THAI_FILLERS)}+(?![\u0e00-\u0e7f])|[^\w\u0e00-\u0e7f']|_"
)

# ---------------------------------------------------------------------------
# Opt-out requests in a sentence
#
# Written as a small grammar per language, not as a list of sentences: a stop
# verb ("stop", "przestańcie", "хватит", "เลิก") or a negated imperative
# ("don't", "nie piszcie", "не пишите", "อย่า") before a verb of contacting,
# with objects and adverbs in any order around it ("me", "już", "мне больше"),
# and the message nouns such requests are about. Two tiers:
#   phrase - an unmistakable request ("stop texting me", "usuńcie mój numer");
#   likely - most probably an opt-out, but said as an idiom, a sigh or half a
#            request ("leave me alone", "enough with the texts", a bare
#            "remove me", "ขอยกเลิกครับ"). We still stop (an ignored opt-out
#            costs more than a lost survey), and messaging/optout.py passes the
#            message to the rep, who can see what was meant.
#
# Verbs that also take goods or text ("send", "wysyłać", "присылать", "ส่ง", and
# "pisać"/"писать" a review) count only with a message as their object, or at
# the end of the clause: "please don't send the wrong part again" and "пришлите
# счёт" are no opt-outs. Verbs that can only mean contacting ("texting",
# "spamować", "не пишите") need neither. Calls are left out on purpose:
# "proszę nie dzwonić, wolę SMS" asks for texts.
#
# In these patterns a space stands for any run of white space (see
# _compile_opt_outs); Thai, written without spaces, uses _S (optional space).
# Everything is matched against folded text: lower case, no Polish diacritics.
# ---------------------------------------------------------------------------

# The end of a clause: punctuation or the end of the text.
_END = r"(?=\s*(?:[^\w\s']|\Z))"
# Thai clause end: no Thai letter follows (the particles are taken in before).
_TH_END = r"(?![\u0e00-\u0e7f])"
_S = r"\s*"
# "Ничего не присылайте, кроме счёта": what follows "nothing" takes it back.
_NO_EXCEPTION = (
    r"(?![\s,;:-]*(?:except|apart from|other than|oprocz|poza|z wyjatkiem|кроме|за исключением"
    rf"|крім|окрім|за винятком)(?!{_L}))"
)
# What may follow a "from your list" that ends the request: "..., thanks", "... and".
_THEN = v.alternation(
    v.FILLERS,
    ("and", "but", "so", "i", "ale", "bo", "oraz", "и", "но", "а", "і", "й", "але", "та", "бо"),
)


def _words(*entries: str) -> str:
    """Literal words or phrases, written naturally (folded here), longest first."""
    return v.alternation(entries)


def _any(*patterns: str) -> str:
    return "(?:" + "|".join(patterns) + ")"


def _opt(pattern: str) -> str:
    """`pattern` or nothing, after a space."""
    return f"(?: {pattern})?"


def _some(*patterns: str) -> str:
    """A few of `patterns`, each after a space: objects and adverbs in any order."""
    # Bounded: an open * is tried again from every word of a long reply (quadratic).
    return f"(?: {_any(*patterns)}){{0,4}}"


class _Lexicon(NamedTuple):
    """One language's words around a request to stop."""

    me: str  # the object: "me", "us", "this number"
    more: str  # adverbs: "any more", "again", "już", "больше"
    det: str  # before a message noun: "these", "your", "żadnych"
    messages: str  # the nouns: "texts", "wiadomości", "рассылку"
    things: str  # stand-ins for the messages that end a clause: "these", "nic", "ничего"
    # Calls never count alone ("proszę nie dzwonić, wolę SMS"), but may come first:
    # "stop calling and texting me", "перестаньте звонить и писать".
    calls: str


def _tail(lex: _Lexicon) -> str:
    return _some(lex.me, lex.more)


def _sending(lex: _Lexicon, verbs: str) -> str:
    """`verbs` that also take goods: only with a message object, or ending the clause."""
    tail = _tail(lex)
    return (
        f"{verbs}{tail}(?:{_opt(lex.det)} {lex.messages}{tail}"
        f"|{_opt(lex.things)}{tail}{_END}{_NO_EXCEPTION})"
    )


def _request(lex: _Lexicon, lead: str, contacting: str = "", sending: str = "") -> str:
    """`lead` (a stop verb, a negation) before a verb that only means contacting or one that sends."""
    verbs = [f"{contacting}{_tail(lex)}"] if contacting else []
    if sending:
        verbs.append(_sending(lex, sending))
    before = _some(lex.me, lex.more, lex.things)  # "не надо мне ничего присылать"
    return f"{lead}{before}{_opt(lex.calls)} {_any(*verbs)}"


def _from_list(lex: _Lexicon, source: str) -> str:
    """`source` ("from your list", "z bazy") as the end of the request: not "from the waiting list"."""
    return f"{source}(?={_tail(lex)}(?:{_END}| {_THEN}(?!{_L})))"


def _negated(lex: _Lexicon, negation: str) -> str:
    """`negation` with the words that may come first: "більше не", "ничего не", "więcej nie"."""
    return f"(?:{_any(lex.more, lex.things)} ){{0,3}}{negation}"


def _ukrainian(*patterns: str) -> tuple[str, ...]:
    # A Latin "i" typed for "і" is common ("не пишiть"); fold() keeps them apart.
    return tuple(p.replace("і", "[іi]") for p in patterns)


# --- English ----------------------------------------------------------------
_EN = _Lexicon(
    me=_words(
        "me", "us", "this number", "my number", "this phone", "my phone", "on this number",
        "at this number", "to this number", "on my number",
    ),
    more=_words(
        "any more", "anymore", "again", "ever again", "ever", "already", "now", "please",
        "pls", "plz", "at all", "for good", "from now on",
    ),
    det=_words(
        "the", "these", "those", "this", "your", "ur", "any", "any more", "anymore", "more",
        "all", "all these", "all the", "all your", "all of these", "all of your", "all of the",
        "such", "further", "other",
    ),
    messages=_words(
        "texts", "text messages", "txts", "messages", "msgs", "sms", "smses", "sms messages",
        "surveys", "emails", "e-mails", "spam", "notifications", "reminders", "questionnaires",
    ),
    things=_words("these", "those", "them", "this", "it", "anything", "this stuff", "stuff"),
    calls=rf"{_words('calling', 'ringing', 'phoning', 'call', 'ring', 'phone')}{_opt(_words('me', 'us'))} {_words('and', 'or', '&')}",
)  # fmt: skip
_EN_STOP = _words("stop", "quit", "cease")
_EN_TEXTING = _words(
    "texting", "txting", "texing", "msging", "msg'ing", "messaging", "messageing",
    "contacting", "emailing", "e-mailing", "spamming", "smsing", "sms-ing", "writing to",
)  # fmt: skip
_EN_BOTHERING = _words("bothering", "pestering", "harassing", "hassling", "bugging")
_EN_DO_NOT = _words("don't", "dont", "do not")
_EN_DONT = _words("don't", "dont", "do not", "never")
_EN_NO_LONGER = _words("don't", "dont", "do not", "no longer")
_EN_CONTACT = _words(
    "text", "txt", "msg", "message", "sms", "contact", "email", "e-mail", "spam", "write to",
)  # fmt: skip
_EN_MINE = _words(
    "me", "us", "my number", "my phone number", "my phone", "my cell", "my mobile",
    "my details", "my data", "my contact details", "my info", "this number",
)  # fmt: skip
_EN_NUMBER = _words("my number", "my phone number", "my details", "my data", "this number")
_EN_LIST = (
    f"{_opt(_words('your', 'ur', 'the', 'this', 'all', 'all your', 'our', 'any'))}"
    f"{_opt(_words('mailing', 'contact', 'sms', 'text', 'texting', 'marketing', 'messaging', 'call', 'calling', 'distribution', 'survey'))}"
    f" {_words('list', 'lists', 'database', 'system', 'records', 'contacts')}"
)
_EN_PREPOSITION = _words("from", "off", "out of", "on", "in", "of")
_EN_PHRASE = (
    r"stop asking(?: me)?",  # "Stop asking, 10"
    _request(_EN, _EN_STOP, contacting=_EN_TEXTING, sending=_words("sending", "sendin")),
    f"{_words('stop', 'cancel', 'end')}{_opt(_EN.det)} {_EN.messages}",
    f"{_EN_STOP} {_EN_BOTHERING}{_opt(_words('me', 'us'))} with{_opt(_EN.det)} {_EN.messages}",
    f"{_EN_DONT}{_some(_EN.more)}{_opt(_EN.calls)} {_EN_CONTACT}(?: {_EN.me}{_tail(_EN)}(?! back)|{_tail(_EN)}{_END})",
    _sending(_EN, f"{_EN_DONT}{_some(_EN.more)} send"),
    f"no more {_EN.messages}",
    r"unsubscribe(?: me| us)?|unsub(?: me| us)|opt(?: me| us)? ?-?out(?! of)",
    f"opt(?: me| us)? out of{_opt(_EN.det)} {_any(_EN.messages, _words('this', 'these', 'it', 'everything', 'all of this'))}",
    f"{_words('remove', 'delete', 'erase', 'scrub', 'take')} {_EN_MINE} {_words('off', 'from', 'out of')}{_from_list(_EN, _EN_LIST)}",
    f"{_words('remove', 'delete', 'erase', 'scrub')} {_EN_NUMBER}(?! {_EN_PREPOSITION} )",
    f"lose {_words('my number', 'this number', 'my phone number', 'my details')}",
    f"(?:(?:i|we) )?{_EN_DO_NOT} {_words('want', 'need', 'wish to receive', 'wanna get')}"
    f"{_some(_EN.more)}(?: to {_words('get', 'receive')})?{_opt(_EN.det)} {_EN.messages}",
    f"(?:(?:i|we) )?{_EN_NO_LONGER} {_words('want', 'wish')} to be"
    f" {_words('contacted', 'texted', 'messaged', 'emailed', 'spammed')}",
    f"{_words('withdraw', 'revoke', 'rescind', 'retract')}{_opt(_words('my', 'all', 'any'))} consent",
    f"(?:i )?{_EN_NO_LONGER} consent"
    f"(?: to{_opt(_EN.det)} {_EN.messages}| to being {_words('contacted', 'texted', 'messaged')}|{_END})",
    r"cease and desist",
)
_EN_LIKELY = (
    f"{_words('enough with', 'enough of', 'enough', 'done with', 'sick of', 'tired of', 'sick and tired of', 'fed up with', 'had enough of')}"
    f"{_opt(_EN.det)} {_EN.messages}",
    f"{_EN_STOP} {_EN_BOTHERING} {_words('me', 'us')}",
    f"{_EN_DO_NOT} {_words('bother', 'pester', 'harass')} {_words('me', 'us')}",
    f"leave {_words('me', 'us')} {_words('alone', 'in peace', 'be')}",
    _words("fuck off", "piss off", "sod off", "bugger off"),
    f"{_words('remove', 'delete')} {_words('me', 'us')}(?! {_EN_PREPOSITION} )",
)

# --- Polish -----------------------------------------------------------------
_PL = _Lexicon(
    me=_words(
        "mi", "mnie", "do mnie", "ze mną", "nas", "do nas", "na ten numer", "na mój numer",
        "tu", "tutaj", "się",
    ),
    more=_words(
        "już", "więcej", "proszę", "nigdy", "nigdy więcej", "w ogóle", "od was", "wreszcie",
        "nareszcie",
    ),
    det=_words(
        "te", "tych", "tymi", "takie", "takich", "wasze", "waszych", "waszymi", "żadnych",
        "żadne", "więcej", "już", "tego typu", "tej", "tę", "tą", "swoich", "swoimi",
        "wszystkie", "wszystkich",
    ),
    messages=(
        r"(?:wiadomosc(?:i|iami)?|sms(?:-?(?:y|ow|ami|a|e|ach|em))?|smsk(?:i|ow|ami)"
        r"|esemes(?:y|ow|ami)?|ankiet(?:y|a|e|ami)?|powiadomien(?:ia|iami)?"
        r"|przypomnien(?:ia|iami)?|spam(?:u|em)?|e?-?mail(?:i|e|ami))"
    ),
    things=_words("nic", "niczego", "nic więcej", "tego", "to", "tych", "ich"),
    calls=rf"{_words('dzwonić', 'wydzwaniać', 'dzwońcie', 'dzwoń')} {_words('i', 'ani', 'ani nie', 'i nie', 'oraz')}",
)  # fmt: skip
_PL_STOP = _words(
    "przestańcie", "przestań", "skończcie", "skończ", "proszę przestać", "prosimy przestać",
)  # fmt: skip
_PL_WRITING = _words("pisać", "wysyłać", "przysyłać", "przesyłać", "słać")
_PL_SPAMMING = _words(
    "spamować", "nękać", "kontaktować się", "kontaktować", "smsować", "esemesować",
    "zawracać mi głowę", "zawracać głowę",
)  # fmt: skip
_PL_MINE = _words(
    "mnie", "nas", "mój numer", "mój numer telefonu", "moje dane", "ten numer", "mój kontakt",
    "moje dane kontaktowe",
)  # fmt: skip
_PL_LIST = (
    f"ze?{_opt(_words('waszej', 'tej', 'waszego', 'tego'))}"
    f" {_words('listy', 'bazy', 'bazy danych', 'systemu', 'listy mailingowej', 'wysyłki', 'mailingu', 'subskrypcji', 'kontaktów')}"
    f"{_opt(_PL.messages)}"
)
_PL_INFORMED = r"(?:informowan|powiadamian|kontaktowan|niepokojon|nekan|spamowan)[aey]"
_PL_ENOUGH = _words(
    "dość", "dosyć", "mam dość", "mam dosyć", "mam już dość", "koniec z", "wystarczy"
)
_PL_LEAVE_ALONE = _words(
    "dajcie mi spokój", "daj mi spokój", "dajcie nam spokój", "zostawcie mnie w spokoju",
    "zostaw mnie w spokoju", "odczepcie się", "odczep się", "odwalcie się",
)  # fmt: skip
# After "nie": "nie piszcie" is a request whatever follows; "nie wysyłajcie" needs a message.
_PL_DONT_WRITE = _words(
    "piszcie", "pisz", "spamujcie", "spamuj", "kontaktujcie się", "kontaktuj się", "nękajcie",
    "smsujcie", "zawracajcie mi głowy", "zawracajcie głowy",
)  # fmt: skip
_PL_DONT_SEND = _words(
    "wysyłajcie", "wysyłaj", "przysyłajcie", "przysyłaj", "przesyłajcie", "ślijcie",
)  # fmt: skip
_PL_PHRASE = (
    _request(_PL, _PL_STOP, contacting=_PL_SPAMMING, sending=_PL_WRITING),
    _request(
        _PL,
        _words("o zaprzestanie", "zaprzestanie", "zaprzestania", "zaprzestać", "zaprzestańcie"),
        contacting=_words("kontaktu", "kontaktowania się", "spamowania", "nękania"),
        sending=_words("wysyłania", "przesyłania", "pisania"),
    ),
    f"{_words('stop', 'przestańcie z', 'skończcie z')}{_opt(_PL.det)} {_PL.messages}",
    _request(_PL, _negated(_PL, "nie"), contacting=_PL_DONT_WRITE, sending=_PL_DONT_SEND),
    # Infinitives ("proszę nie pisać") also take a review or an invoice: message or clause end.
    _sending(_PL, f"{_negated(_PL, 'nie')} {_any(_PL_WRITING, _PL_SPAMMING)}"),
    _sending(_PL, f"nie chce{_tail(_PL)} {_words('dostawać', 'otrzymywać')}"),
    f"nie chce{_tail(_PL)}{_opt(_PL.det)} {_PL.messages}",
    f"nie zycze sobie{_tail(_PL)}{_opt(_any(_PL.det, _words('dalszego', 'żadnego', 'dalszych')))}"
    f" {_any(_PL.messages, _words('kontaktu', 'kontaktów', 'kontaktowania się'))}",
    f"nie zgadzam sie na{_opt(_PL.det)} {_any(_PL.messages, _words('kontakt', 'kontaktowanie się'))}",
    # "Nie chcę być więcej informowany": with "więcej"/"już", or ending the clause.
    f"nie chce byc{_some(_words('więcej', 'już'))} {_PL_INFORMED}{_tail(_PL)}{_END}",
    f"nie chce byc(?: {_words('więcej', 'już')})+ {_PL_INFORMED}",
    r"wypisz(?:cie)? (?:mnie|nas)|(?:mnie )?wypisuj(?:e|cie) (?:sie|mnie)|wypisac (?:sie|mnie)"
    r"|(?:mnie|nas) wypisac",
    f"rezygnuje z{_opt(_PL.det)} {_any(_PL.messages, 'subskrypcji')}",
    f"{_words('usuńcie', 'usuń', 'usunąć', 'skasujcie', 'skasuj', 'skasować', 'wykreślcie', 'wykreśl', 'wykreślić', 'wymażcie')}"
    f" {_PL_MINE}(?: {_from_list(_PL, _PL_LIST)}|(?! ze? ))",
    f"{_PL_MINE} {_words('usunąć', 'skasować', 'wykreślić')}(?: {_from_list(_PL, _PL_LIST)}|(?! ze? ))",
    f"{_words('wycofuję', 'wycofujemy', 'cofam', 'odwołuję')}{_opt(_words('swoją', 'moją'))} zgode"
    f"(?: na{_opt(_PL.det)} {_any(_PL.messages, _words('kontakt', 'otrzymywanie', 'marketing', 'przetwarzanie danych'))}|{_END})",
    # An idiom with the messages named: "dajcie mi spokój z tymi ankietami".
    f"{_any(_PL_LEAVE_ALONE, _words('dajcie spokój'))}{_some(_words('ode mnie', 'już', 'wreszcie'))}"
    f" ze?{_opt(_PL.det)} {_PL.messages}",
)
_PL_LIKELY = (
    f"{_PL_ENOUGH}{_opt(_PL.det)} {_PL.messages}",
    _PL_LEAVE_ALONE,
    f"nie chce {_words('brać', 'wziąć')} udzialu w {_words('ankietach', 'ankiecie', 'badaniach', 'badaniu')}",
)

# --- Ukrainian --------------------------------------------------------------
_UK = _Lexicon(
    me=_words("мені", "мене", "нам", "нас", "сюди", "на цей номер", "на мій номер"),
    more=_words(
        "більше", "вже", "уже", "будь ласка", "нарешті", "ніколи", "взагалі", "від вас", "прошу",
    ),
    det=_words(
        "ці", "цих", "цими", "ваші", "ваших", "вашими", "ніяких", "жодних", "більше", "такі",
        "таких", "свої", "своїх", "своїми", "всі", "усі",
    ),
    messages=(
        r"(?:повідомлен(?:ня|ь|нями)|смс(?:-?(?:ки|ок|ками))?|смск(?:и|ок|ами)|есемеск(?:и|ок)"
        r"|розсилк(?:у|а|и|ою)|розсилок|опитуван(?:ня|ь|нями)|спам(?:у|ом)?|лист(?:и|ів)"
        r"|сповіщен(?:ня|ь)|нагадуван(?:ня|ь))"
    ),
    things=_words("нічого", "нічого більше", "це", "їх", "цього", "все це"),
    calls=rf"{_words('дзвонити', 'телефонувати', 'дзвоніть')} {_words('і', 'й', 'та', 'і не')}",
)  # fmt: skip
_UK_STOP = _words(
    "припиніть", "припини", "перестаньте", "перестань", "досить", "годі", "вистачить",
    "хватить", "кінчайте", "прошу припинити", "просимо припинити",
)  # fmt: skip
_UK_SPAMMING = _words("спамити", "спамувати", "турбувати", "набридати", "діставати")
_UK_WRITING = _words(
    "писати", "писать", "слати", "надсилати", "присилати", "відправляти", "розсилати",
    "пересилати",
)  # fmt: skip
_UK_MINE = _words(
    "мене", "нас", "мій номер", "мій номер телефону", "мої дані", "цей номер", "мій контакт"
)
_UK_LIST = (
    f"{_words('з', 'зі', 'із')}{_opt(_words('вашої', 'цієї', 'вашого', 'цього'))}"
    f" {_words('списку', 'списків', 'бази', 'бази даних', 'розсилки', 'розсилок', 'бази розсилки')}"
)
_UK_LEAVE_ALONE = _words(
    "дайте мені спокій", "дай мені спокій", "дайте нам спокій", "залиште мене в спокої",
    "залиште мене у спокої", "відчепіться", "відчепись", "відстаньте", "відстань",
)  # fmt: skip
_UK_DONT_WRITE = _words("пишіть", "пиши", "пишить", "турбуйте", "турбуй", "спамте", "набридайте")
_UK_DONT_SEND = _words(
    "надсилайте", "надсилай", "шліть", "шли", "присилайте", "відправляйте", "розсилайте",
    "пересилайте",
)  # fmt: skip
_UK_PHRASE = _ukrainian(
    _request(_UK, _UK_STOP, contacting=_UK_SPAMMING, sending=_UK_WRITING),
    _request(_UK, _words("не треба", "не потрібно"), contacting=_UK_SPAMMING, sending=_UK_WRITING),
    f"{_words('стоп', 'припиніть', 'припини', 'зупиніть', 'вимкніть')}{_opt(_UK.det)} {_UK.messages}",
    _request(_UK, _negated(_UK, "не"), contacting=_UK_DONT_WRITE, sending=_UK_DONT_SEND),
    _sending(_UK, f"{_negated(_UK, 'не')} {_any(_UK_WRITING, _UK_SPAMMING)}"),
    _sending(_UK, f"не хочу{_tail(_UK)} {_words('отримувати', 'одержувати', 'получати')}"),
    f"не хочу{_tail(_UK)}{_opt(_UK.det)} {_UK.messages}",
    r"відпиш(?:іть|и) (?:мене|нас|цей номер|мій номер)|відпиш(?:іться|ись) від (?:мене|нас|розсилки)"
    r"|відписатися|відписатись|відпишуся|відпишусь",
    f"{_words('видаліть', 'видали', 'видалити', 'викресліть', 'викреслити', 'вилучіть', 'вилучити')}"
    f" {_UK_MINE}(?: {_from_list(_UK, _UK_LIST)}|(?! {_words('з', 'зі', 'із')} ))",
    f"{_words('заберіть', 'приберіть', 'забрати', 'прибрати')} {_UK_MINE} {_from_list(_UK, _UK_LIST)}",
    f"{_words('відкликаю', 'відкликаємо', 'скасовую', 'забираю')}{_opt(_words('свою', 'мою'))} згоду"
    f"(?: на{_opt(_UK.det)} {_any(_UK.messages, _words('контакт', 'отримання', 'обробку даних'))}|{_END})",
    f"{_any(_UK_LEAVE_ALONE, _words('дайте спокій'))}{_some(_words('від мене', 'вже', 'нарешті'))}"
    f" {_words('з', 'зі', 'із')}{_opt(_UK.det)} {_UK.messages}",
)
_UK_LIKELY = _ukrainian(
    f"{_words('досить', 'годі', 'вистачить', 'набридли', 'набридло', 'дістали', 'задовбали')}"
    f"{_some(_words('вже', 'мені'))}(?: {_words('з', 'зі', 'із')})?{_opt(_UK.det)} {_UK.messages}",
    _UK_LEAVE_ALONE,
    # "Відпишіть" alone also means "write back": only as the last word of the message.
    r"відпиш(?:іть|и)(?=[\s.!]*\Z)",
    f"не хочу {_words('брати участь', 'брати участі')} {_words('в', 'у')} {_words('опитуваннях', 'опитуванні')}",
)

# --- Russian ----------------------------------------------------------------
_RU = _Lexicon(
    me=_words("мне", "меня", "нам", "нас", "сюда", "на этот номер", "на мой номер"),
    more=_words(
        "больше", "уже", "пожалуйста", "никогда", "вообще", "от вас", "наконец", "прошу",
        "впредь",
    ),
    det=_words(
        "эти", "этих", "этими", "ваши", "ваших", "вашими", "никаких", "такие", "таких", "свои",
        "своих", "своими", "больше", "все", "всякие", "всяких",
    ),
    messages=(
        r"(?:сообщени(?:я|й|ями)|смс(?:-?(?:ки|ок|ками))?|смск(?:и|ок|ами)|эсэмэск(?:и|ок)"
        r"|рассылк(?:у|а|и|ой)|рассылок|опрос(?:ы|ов|ами)?|спам(?:а|ом)?|пис(?:ьма|ем)"
        r"|уведомлени(?:я|й)|напоминани(?:я|й))"
    ),
    things=_words("ничего", "ничего больше", "это", "их", "этого", "всё это"),
    calls=rf"{_words('звонить', 'названивать', 'звоните', 'звони')} {_words('и', 'и не')}",
)  # fmt: skip
_RU_STOP = _words(
    "хватит", "прекратите", "прекрати", "перестаньте", "перестань", "довольно", "хорош",
    "кончайте", "заканчивайте", "прошу прекратить", "просим прекратить",
)  # fmt: skip
_RU_SPAMMING = _words("спамить", "беспокоить", "доставать", "донимать", "надоедать", "тревожить")
_RU_WRITING = _words("писать", "слать", "присылать", "отправлять", "рассылать", "пересылать")
_RU_MINE = _words(
    "меня", "нас", "мой номер", "мой номер телефона", "мои данные", "этот номер", "мой контакт",
    "мой телефон",
)  # fmt: skip
_RU_LIST = (
    f"из{_opt(_words('вашей', 'этой', 'вашего', 'этого'))}"
    f" {_words('списка', 'списков', 'базы', 'базы данных', 'рассылки', 'рассылок', 'контактов')}"
)
_RU_LEAVE_ALONE = _words(
    "оставьте меня в покое", "оставь меня в покое", "оставьте нас в покое", "отстаньте",
    "отстань", "отвяжитесь", "отвяжись", "отцепитесь", "отвалите",
)  # fmt: skip
# "Не пишете" (you don't write) is a statement: only the imperative "пишите" counts.
_RU_DONT_WRITE = _words(
    "пишите", "пиши", "беспокойте", "беспокой", "спамьте", "тревожьте", "донимайте",
    "надоедайте",
)  # fmt: skip
_RU_DONT_SEND = _words(
    "присылайте", "присылай", "отправляйте", "отправляй", "шлите", "шли", "рассылайте",
)  # fmt: skip
_RU_PHRASE = (
    _request(_RU, _RU_STOP, contacting=_RU_SPAMMING, sending=_RU_WRITING),
    _request(_RU, _words("не надо", "не нужно"), contacting=_RU_SPAMMING, sending=_RU_WRITING),
    f"{_words('стоп', 'прекратите', 'прекрати', 'остановите', 'отключите')}{_opt(_RU.det)} {_RU.messages}",
    _request(_RU, _negated(_RU, "не"), contacting=_RU_DONT_WRITE, sending=_RU_DONT_SEND),
    _sending(_RU, f"{_negated(_RU, 'не')} {_any(_RU_WRITING, _RU_SPAMMING)}"),
    _sending(_RU, f"не хочу{_tail(_RU)} получать"),
    f"не хочу{_tail(_RU)}{_opt(_RU.det)} {_RU.messages}",
    # "Отпишите меня" unsubscribes; "отпишите мне" means "write back to me".
    r"отпиш(?:ите|и) (?:меня|нас|этот номер|мой номер|от рассылки)|отпишитесь от (?:меня|нас)"
    r"|отписаться|отпишусь|отписываюсь",
    f"{_words('удалите', 'удали', 'удалить', 'вычеркните', 'вычеркнуть', 'исключите', 'исключить', 'сотрите')}"
    f" {_RU_MINE}(?: {_from_list(_RU, _RU_LIST)}|(?! из ))",
    f"{_words('уберите', 'убери', 'убрать')} {_RU_MINE} {_from_list(_RU, _RU_LIST)}",
    f"{_words('отзываю', 'отзываем', 'отменяю', 'забираю')}{_opt(_words('своё', 'моё'))} согласие"
    f"(?: на{_opt(_RU.det)} {_any(_RU.messages, _words('контакт', 'получение', 'обработку данных'))}|{_END})",
    f"{_any(_RU_LEAVE_ALONE, _words('оставьте в покое'))}{_some(_words('от меня', 'уже', 'наконец'))}"
    f" {_words('с', 'со')}{_opt(_RU.det)} {_RU.messages}",
)
_RU_LIKELY = (
    f"{_words('хватит', 'довольно', 'достали', 'задолбали', 'надоели', 'замучили', 'достало', 'надоело')}"
    f"{_some(_words('уже', 'мне'))}(?: {_words('с', 'со')})?{_opt(_RU.det)} {_RU.messages}",
    f"{_RU_LEAVE_ALONE}{_some(_words('от меня', 'уже', 'наконец'))}",
    # "Отпишите" alone also means "write back": only as the last word of the message.
    r"отпиш(?:ите|и)(?=[\s.!]*\Z)",
    f"не хочу участвовать в {_words('опросах', 'опросе')}",
)

# --- Thai: no spaces, so the message object is what tells "ส่ง" (send) apart --
_TH_ME = _words("ผม", "ฉัน", "หนู", "เรา", "ดิฉัน", "เค้า")
_TH_MESSAGES = _words(
    "ข้อความ", "sms", "เอสเอ็มเอส", "ข่าวสาร", "แบบสอบถาม", "แบบสำรวจ", "การแจ้งเตือน",
    "แจ้งเตือน", "อีเมล",
)  # fmt: skip
# What may follow "ส่ง" (send) to the end of the clause: "มาอีก", "ได้แล้ว", "ซะที", particles.
_TH_TAIL = (
    rf"(?:{_S}"
    + _any(
        _words(
            "มา", "อีก", "แล้ว", "ได้แล้ว", "เถอะ", "ซะที", "สักที", "เสียที", "ด้วย", "ได้ไหม",
            "ได้มั้ย", "ได้มั๊ย", "แบบนี้", "พวกนี้", "กวน", "กวนใจ", "ถาม", *v.THAI_PARTICLES,
        ),
        rf"(?:มา)?หา{_TH_ME}",
        rf"ให้{_TH_ME}",
        rf"ทาง{_S}{_TH_MESSAGES}",  # "by text": this very channel
    )
    + "){0,8}"
)  # fmt: skip
_TH_STOP = _words("เลิก", "หยุด", "อย่า", "ไม่ต้อง")
_TH_PHRASE = (
    rf"{_TH_STOP}{_S}ส่ง(?:{_S}{_TH_MESSAGES}{_TH_TAIL}|(?:{_S}อะไร)?{_TH_TAIL}{_TH_END})",
    rf"{_TH_STOP}{_S}{_words('ติดต่อ', 'ทักแชท', 'ทัก')}{_TH_TAIL}{_TH_END}",
    rf"{_words('ลบ', 'เอา', 'ถอด')}{_S}เบอร์(?:โทร(?:ศัพท์)?)?(?:{_S}(?:ของ)?{_TH_ME})?{_S}ออก"
    rf"(?:{_S}จาก{_S}{_words('ระบบ', 'รายชื่อ', 'ลิสต์', 'list', 'ฐานข้อมูล', 'รายการ')})?",
    rf"ยกเลิก(?:การ)?(?:รับ|ส่ง)?(?:บริการ)?{_S}{_TH_MESSAGES}{_TH_TAIL}",
    rf"(?:ขอ)?ไม่(?:ต้องการ|อยาก|ขอ|ประสงค์)?(?:จะ)?(?:ได้)?รับ{_S}{_TH_MESSAGES}{_TH_TAIL}",
)
_TH_LIKELY = (
    rf"{_words('อย่า', 'ไม่ต้อง', 'เลิก')}(?:มา)?ยุ่ง(?:{_S}กับ{_S}{_TH_ME})?{_TH_TAIL}",
    rf"{_TH_STOP}(?:มา)?{_words('รบกวน', 'กวนใจ', 'กวน')}{_TH_TAIL}{_TH_END}",
    # "ขอยกเลิกครับ" as the whole message: please cancel (what, it does not say).
    rf"ขอ{_words('ยกเลิก', 'เลิก', 'หยุด')}{_TH_TAIL}(?=[\s.!]*\Z)",
)


# --- Any language -----------------------------------------------------------
def _bare_stop(polite: str, stop: str, after: str) -> str:
    """A bare "Stop." as a sentence of its own among others: "Please stop. I've asked twice."""
    # At the start of the text or of a sentence (one or two spaces after it;
    # \x20, as a plain space in these patterns stands for any run of them).
    sentence_start = r"(?:(?<![^.!?\n])|(?<=[.!?]\x20)|(?<=[.!?]\x20\x20))"
    return f"{sentence_start}(?:{polite} )?{stop}(?: {after})?\\s*(?:[.!]+|\\n)"


_LATIN_BARE_STOP = _bare_stop(
    _words("please", "pls", "plz", "ok", "okay", "just", "proszę"),
    _words("stop", "dość", "dosyć", "wystarczy", "enough"),
    _words("it", "now", "please", "pls", "already", "proszę", "już"),
)
_CYRILLIC_BARE_STOP = _bare_stop(
    _words("пожалуйста", "будь ласка"),
    _words("стоп", "хватит", "досить", "годі"),
    _words("уже", "вже", "пожалуйста", "будь ласка"),
)


def _compile_opt_outs(tier: str) -> re.Pattern[str]:
    """One regex for the requests of `tier` ("phrase", or "likely" for both tiers).

    Each script's patterns sit behind a look-ahead for their first letter, so a
    Cyrillic word is never tried against the English ones: most replies hold no
    request, and this scan is the whole cost of finding that out.
    """
    scripts = {
        "[a-z]": (*_EN_PHRASE, *_PL_PHRASE),
        "[\u0400-\u04ff]": (*_UK_PHRASE, *_RU_PHRASE),
        "[\u0e00-\u0e7f]": _TH_PHRASE,
    }
    if tier == "likely":  # after the phrases: where both start at one place, the phrase wins
        scripts["[a-z]"] += (*_EN_LIKELY, *_PL_LIKELY, _LATIN_BARE_STOP)
        scripts["[\u0400-\u04ff]"] += (*_UK_LIKELY, *_RU_LIKELY, _CYRILLIC_BARE_STOP)
        scripts["[\u0e00-\u0e7f]"] += _TH_LIKELY
    branches = _any(*(f"(?={first}){_any(*patterns)}" for first, patterns in scripts.items()))
    return re.compile(rf"(?<!{_L}){branches}(?!{_L})".replace(" ", r"\s+"))


_ANY_OPT_OUT = _compile_opt_outs("likely")
_PHRASE_OPT_OUT = _compile_opt_outs("phrase")

# "Don't text me on WhatsApp, better here": a request about another channel or
# time is at most likely, and none at all when it asks for this channel instead.
# "By text", "на этот номер", "ทางข้อความ" name this very channel: no qualifier.
_THIS_CHANNEL = (
    r"(?:(?:this|my|ten|moj|этот|мой|цей|мій)\s+(?:number|numer|номер)"
    r"|texts?\b|sms|смс|messages?\b|ข้อความ|เอสเอ็มเอส)"
)
_QUALIFIER = re.compile(
    r"\s+(?:in|on|at|via|over|through|after|before|during|about|until|w|we|na|przez|po|o"
    rf"|в|во|у|на|через|по|після|после|про|о|об)\s+(?!{_THIS_CHANNEL})"
    rf"|\s*(?:ทาง|ตอน)(?!\s*{_THIS_CHANNEL})"
)
# ... and "better here" after it asks for this channel instead.
_HERE_WORDS = r"(?:here|tu|tutaj|тут|здесь|сюда|сюди|this chat|ten czat|этот чат|цей чат)"
_INSTEAD = _words(
    "better", "rather", "only", "just", "lepiej", "wolę", "raczej", "tylko", "piszcie", "лучше",
    "только", "пишите", "краще", "тільки", "пишіть",
)  # fmt: skip
_HERE = re.compile(
    rf"(?<!{_L}){_INSTEAD}\s+(?:\w+\s+){{0,2}}?{_HERE_WORDS}(?!{_L})"
    rf"|(?<!{_L}){_HERE_WORDS}\s+(?:instead|zamiast tego|вместо этого|замість цього)(?!{_L})"
    r"|(?:ที่นี่|ทางนี้)\s*แทน"
)
_POLITE = r"(?:please|pls|plz|now|prosze|пожалуйста|будь ласка|กรุณา|ช่วย)"
_THAI_PARTICLES = rf"(?:{v.alternation(v.THAI_PARTICLES, 'ด้วย')})*"
_CONNECTOR = r"(?:but|and|so|ale|но|и|а|але|і|та|แต่|และ)"  # not "i", "a": "how do I unsubscribe"
# Taken in with the request so the comment keeps neither: "10 but please stop texting me".
_LEAD_IN = re.compile(rf"(?<!{_L}){_CONNECTOR}\s+(?:{_POLITE}\s*)?\Z|(?<!{_L}){_POLITE}\s*\Z")
_TRAIL = re.compile(rf"(?:[\s,]*(?<!{_L}){_POLITE}(?!{_L}))?{_THAI_PARTICLES}")
# Words that, just before a request, make it none: "don't stop texting me", "nie
# wypisujcie mnie", "the salesman wouldn't leave me alone", "ask him to stop calling".
_NOT_A_REQUEST = (
    "don't", "dont", "do not", "can't", "cant", "cannot", "won't", "wont", "will not",
    "wouldn't", "wouldnt", "would not", "doesn't", "doesnt", "does not", "didn't", "didnt",
    "did not", "couldn't", "couldnt", "shouldn't", "shouldnt", "never", "not", "no need to",
    "him to", "her to", "nie", "не", "ні",
)  # fmt: skip
_NEGATED = re.compile(rf"(?<!{_L}){v.alternation(_NOT_A_REQUEST)}\s+\Z|(?:ไม่|ไม่ได้|อย่า)\s*\Z")
# "They never text me back", "you don't message me": a statement, not a request.
_SUBJECT = re.compile(rf"(?<!{_L})(?:i|we|you|u|ya|they|he|she|it|who|why|nobody|people)\s+\Z")
_EN_NEGATION_FIRST = ("don't", "dont", "do not", "never")


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


class OptOut(NamedTuple):
    start: int
    end: int
    how: str  # "phrase" (an unmistakable request) or "likely" (most probably one)


def opt_out(key: str) -> OptOut | None:
    """Where folded text `key` asks us to stop messaging, and how sure that is.

    A request that is negated ("don't stop texting me") or is a statement ("they
    never text me") is none. The first unmistakable request wins; failing one, the
    first likely one. The span takes in a "but please" before and particles after.
    """
    likely = None
    for m in _ANY_OPT_OUT.finditer(key):
        start, end = m.span()
        window = max(0, start - 24)
        if _NEGATED.search(key, window, start):
            continue
        if key.startswith(_EN_NEGATION_FIRST, start) and _SUBJECT.search(key, window, start):
            continue
        how = "phrase" if _PHRASE_OPT_OUT.match(key, start) else "likely"
        if how == "phrase" and _QUALIFIER.match(key, end):
            if _HERE.search(key, end):
                continue  # "не пишите мне в WhatsApp, лучше сюда": keep writing here
            how = "likely"
        if how == "phrase" or likely is None:
            lead_in = _LEAD_IN.search(key, window, start)
            trail = _TRAIL.match(key, end)
            found = OptOut(
                lead_in.start() if lead_in else start, trail.end() if trail else end, how
            )
            if how == "phrase":
                return found
            likely = found
    return likely


_EXACT, _PHRASES = _compile_whole()
_LONGEST_WHOLE_MESSAGE = 80  # "please start sending me messages again 🙏🙏", with room to spare
_DIGIT = re.compile("[0-9]")
