"""Opt-out requests in Polish."""

from conversation.replies.opt_outs.grammar import (
    END,
    Lexicon,
    any_of,
    from_list,
    negated,
    opt,
    request,
    sending_verbs,
    some,
    tail,
    words,
)

_PL = Lexicon(
    me=words(
        "mi", "mnie", "do mnie", "ze mną", "nas", "do nas", "na ten numer", "na mój numer",
        "tu", "tutaj", "się",
    ),
    more=words(
        "już", "więcej", "proszę", "nigdy", "nigdy więcej", "w ogóle", "od was", "wreszcie",
        "nareszcie",
    ),
    det=words(
        "te", "tych", "tymi", "takie", "takich", "wasze", "waszych", "waszymi", "żadnych",
        "żadne", "więcej", "już", "tego typu", "tej", "tę", "tą", "swoich", "swoimi",
        "wszystkie", "wszystkich",
    ),
    messages=(
        r"(?:wiadomosc(?:i|iami)?|sms(?:-?(?:y|ow|ami|a|e|ach|em))?|smsk(?:i|ow|ami)"
        r"|esemes(?:y|ow|ami)?|ankiet(?:y|a|e|ami)?|powiadomien(?:ia|iami)?"
        r"|przypomnien(?:ia|iami)?|spam(?:u|em)?|e?-?mail(?:i|e|ami))"
    ),
    things=words("nic", "niczego", "nic więcej", "tego", "to", "tych", "ich"),
    calls=rf"{words('dzwonić', 'wydzwaniać', 'dzwońcie', 'dzwoń')} {words('i', 'ani', 'ani nie', 'i nie', 'oraz')}",
)  # fmt: skip
_STOP = words(
    "przestańcie", "przestań", "skończcie", "skończ", "proszę przestać", "prosimy przestać",
)  # fmt: skip
_WRITING = words("pisać", "wysyłać", "przysyłać", "przesyłać", "słać")
_SPAMMING = words(
    "spamować", "nękać", "kontaktować się", "kontaktować", "smsować", "esemesować",
    "zawracać mi głowę", "zawracać głowę",
)  # fmt: skip
_MINE = words(
    "mnie", "nas", "mój numer", "mój numer telefonu", "moje dane", "ten numer", "mój kontakt",
    "moje dane kontaktowe",
)  # fmt: skip
_LIST = (
    f"ze?{opt(words('waszej', 'tej', 'waszego', 'tego'))}"
    f" {words('listy', 'bazy', 'bazy danych', 'systemu', 'listy mailingowej', 'wysyłki', 'mailingu', 'subskrypcji', 'kontaktów')}"
    f"{opt(_PL.messages)}"
)
_INFORMED = r"(?:informowan|powiadamian|kontaktowan|niepokojon|nekan|spamowan)[aey]"
_ENOUGH = words("dość", "dosyć", "mam dość", "mam dosyć", "mam już dość", "koniec z", "wystarczy")
_LEAVE_ALONE = words(
    "dajcie mi spokój", "daj mi spokój", "dajcie nam spokój", "zostawcie mnie w spokoju",
    "zostaw mnie w spokoju", "odczepcie się", "odczep się", "odwalcie się",
)  # fmt: skip
# After "nie": "nie piszcie" is a request whatever follows; "nie wysyłajcie" needs a message.
_DONT_WRITE = words(
    "piszcie", "pisz", "spamujcie", "spamuj", "kontaktujcie się", "kontaktuj się", "nękajcie",
    "smsujcie", "zawracajcie mi głowy", "zawracajcie głowy",
)  # fmt: skip
_DONT_SEND = words(
    "wysyłajcie", "wysyłaj", "przysyłajcie", "przysyłaj", "przesyłajcie", "ślijcie",
)  # fmt: skip
PHRASES = (
    request(_PL, _STOP, contacting=_SPAMMING, sending=_WRITING),
    request(
        _PL,
        words("o zaprzestanie", "zaprzestanie", "zaprzestania", "zaprzestać", "zaprzestańcie"),
        contacting=words("kontaktu", "kontaktowania się", "spamowania", "nękania"),
        sending=words("wysyłania", "przesyłania", "pisania"),
    ),
    f"{words('stop', 'przestańcie z', 'skończcie z')}{opt(_PL.det)} {_PL.messages}",
    request(_PL, negated(_PL, "nie"), contacting=_DONT_WRITE, sending=_DONT_SEND),
    # Infinitives ("proszę nie pisać") also take a review or an invoice: message or clause end.
    sending_verbs(_PL, f"{negated(_PL, 'nie')} {any_of(_WRITING, _SPAMMING)}"),
    sending_verbs(_PL, f"nie chce{tail(_PL)} {words('dostawać', 'otrzymywać')}"),
    f"nie chce{tail(_PL)}{opt(_PL.det)} {_PL.messages}",
    f"nie zycze sobie{tail(_PL)}{opt(any_of(_PL.det, words('dalszego', 'żadnego', 'dalszych')))}"
    f" {any_of(_PL.messages, words('kontaktu', 'kontaktów', 'kontaktowania się'))}",
    f"nie zgadzam sie na{opt(_PL.det)} {any_of(_PL.messages, words('kontakt', 'kontaktowanie się'))}",
    # "Nie chcę być więcej informowany": with "więcej"/"już", or ending the clause.
    f"nie chce byc{some(words('więcej', 'już'))} {_INFORMED}{tail(_PL)}{END}",
    f"nie chce byc(?: {words('więcej', 'już')})+ {_INFORMED}",
    r"wypisz(?:cie)? (?:mnie|nas)|(?:mnie )?wypisuj(?:e|cie) (?:sie|mnie)|wypisac (?:sie|mnie)"
    r"|(?:mnie|nas) wypisac",
    f"rezygnuje z{opt(_PL.det)} {any_of(_PL.messages, 'subskrypcji')}",
    f"{words('usuńcie', 'usuń', 'usunąć', 'skasujcie', 'skasuj', 'skasować', 'wykreślcie', 'wykreśl', 'wykreślić', 'wymażcie')}"
    f" {_MINE}(?: {from_list(_PL, _LIST)}|(?! ze? ))",
    f"{_MINE} {words('usunąć', 'skasować', 'wykreślić')}(?: {from_list(_PL, _LIST)}|(?! ze? ))",
    f"{words('wycofuję', 'wycofujemy', 'cofam', 'odwołuję')}{opt(words('swoją', 'moją'))} zgode"
    f"(?: na{opt(_PL.det)} {any_of(_PL.messages, words('kontakt', 'otrzymywanie', 'marketing', 'przetwarzanie danych'))}|{END})",
    # An idiom with the messages named: "dajcie mi spokój z tymi ankietami".
    f"{any_of(_LEAVE_ALONE, words('dajcie spokój'))}{some(words('ode mnie', 'już', 'wreszcie'))}"
    f" ze?{opt(_PL.det)} {_PL.messages}",
)
LIKELY = (
    f"{_ENOUGH}{opt(_PL.det)} {_PL.messages}",
    _LEAVE_ALONE,
    f"nie chce {words('brać', 'wziąć')} udzialu w {words('ankietach', 'ankiecie', 'badaniach', 'badaniu')}",
)
