"""The words around a number that tell a rating from a count, per language.

Entries are written naturally (with diacritics); `folded` and `alternation`
fold them the way the parser folds the reply. A space inside an entry matches
any run of spaces. Thai entries get no word boundaries because Thai has no spaces.
"""

import re

from conversation.replies.text import fold_word


def folded(*groups: tuple[str, ...]) -> frozenset[str]:
    """The entries of `groups`, folded, for looking up one word of a reply."""
    return frozenset(fold_word(entry) for group in groups for entry in group)


def alternation(*groups: tuple[str, ...] | str) -> str:
    """A non-capturing regex alternation of folded entries, longest first."""
    entries: set[str] = set()
    for group in groups:
        entries.update((group,) if isinstance(group, str) else group)
    longest_first = sorted({fold_word(e) for e in entries}, key=lambda e: (-len(e), e))
    return "(?:" + "|".join(re.escape(e).replace(r"\ ", r"\s+") for e in longest_first) + ")"


# A letter of a spaced script: the boundary for Latin and Cyrillic words.
LETTER = r"[^\W\d_\u0e00-\u0e7f]"

# Units after a number make it a count, a price or a duration, not a rating.
UNITS = (
    "time", "times", "x", "day", "days", "hour", "hours", "hr", "hrs", "h", "minute",
    "minutes", "min", "mins", "week", "weeks", "wk", "wks", "month", "months", "year",
    "years", "yr", "yrs", "second", "seconds", "sec", "secs", "am", "pm", "a.m", "p.m",
    "o'clock", "dollars", "dollar", "bucks", "usd", "eur", "euro", "euros", "pounds",
    "gbp", "pln", "uah", "rub", "thb", "baht", "percent", "per", "km", "miles", "kg",
    "lbs", "items", "item", "pieces", "pcs", "people", "persons", "friends", "kids",
    "calls", "emails", "messages", "texts", "attempts", "tries", "reminders", "boxes",
    "packages", "parcels", "orders", "stars", "star", "k", "th", "st", "nd", "rd",
    # Polish
    "raz", "razy", "dzień", "dni", "dnia", "godzina", "godzin", "godziny", "godzinę",
    "godz", "minut", "minuty", "minutę", "tydzień", "tygodni", "tygodnie", "miesiąc",
    "miesiące", "miesięcy", "lat", "lata", "rok", "sekund", "zł", "złotych", "złote",
    "zl", "gr", "tys", "procent", "osób", "osoby", "ludzi", "znajomych", "sztuk", "szt",
    "telefonów", "maili", "gwiazdek", "gwiazdki", "gwiazdka", "gwiazdy", "gwiazdkami",
    # Ukrainian
    "раз", "рази", "разів", "день", "дні", "днів", "дня", "годин", "години", "годину",
    "год", "хвилин", "хвилини", "хвилину", "хв", "тиждень", "тижні", "тижнів",
    "місяць", "місяці", "місяців", "рік", "роки", "років", "секунд", "грн", "гривень",
    "гривні", "гривня", "тис", "шт", "штук", "людей", "осіб", "друзів", "дзвінків",
    "зірок", "зірки", "зірка", "зірочок", "відсотків",
    # Russian
    "раза", "дней", "дни", "час", "часа", "часов", "ч", "минут", "минуты", "минуту",
    "мин", "неделя", "недели", "недель", "неделю", "месяц", "месяца", "месяцев", "лет",
    "года", "секунд", "руб", "рублей", "рубля", "р", "тыс", "человек", "друзей",
    "звонков", "звёзд", "звезды", "звезда", "звёздочек", "процентов", "км", "кг",
)  # fmt: skip
THAI_UNITS = (
    "ครั้ง", "วัน", "ชั่วโมง", "ชม", "นาที", "สัปดาห์", "อาทิตย์", "เดือน", "ปี", "วินาที",
    "บาท", "โมง", "ทุ่ม", "คน", "ชิ้น", "อัน", "กล่อง", "ดาว", "เปอร์เซ็นต์", "กิโล", "ตัว",
    "เครื่อง", "รอบ", "เพื่อน",
)  # fmt: skip
UNIT_SYMBOLS = "%‰$€£¥₴₽฿⭐★☆*"

# Before a number: order, model, room and money markers ("#12", "iPhone 8", "size 9").
MARKERS = (
    "order", "no.", "nr", "nr.", "number", "num", "invoice", "ticket", "room", "size",
    "model", "version", "v", "iphone", "ipad", "galaxy", "pixel", "windows", "ios",
    "android", "series", "gen", "ps", "xbox", "floor", "apt", "flat", "gate", "bus",
    "route", "seat", "page", "zamówienie", "zamówienia", "faktura", "rozmiar", "pokój",
    "numer", "заказ", "заказа", "замовлення", "номер", "размер", "розмір", "рахунок", "счёт",
)  # fmt: skip
THAI_MARKERS = ("คำสั่งซื้อ", "เลขที่", "ไซส์", "เบอร์", "ห้อง", "รุ่น")
MARKER_SYMBOLS = "#№$€£¥₴₽฿+"

# A preposition before a bare number makes it a time, a price or a quantity:
# "waited for 3", "late by 2", "po 5", "через 2", "ประมาณ 3". A rating verb
# still wins ("оцениваю на 8").
PREPOSITIONS = (
    "for", "at", "by", "in", "on", "after", "before", "since", "until", "till",
    "within", "around", "about", "approx", "over", "under", "than", "of", "from", "to",
    "with", "between", "top", "za", "po", "o", "w", "we", "od", "do", "przez", "około",
    "ponad", "z", "ze", "na", "między", "pomiędzy", "через", "після", "после", "за", "в",
    "во", "до", "от", "від", "из", "із", "з", "с", "о", "об", "около", "близько", "по",
    "більше", "больше", "менше", "меньше", "на", "між", "между",
)  # fmt: skip
# Thai words that may touch a Thai numeral: ให้สิบ (give ten), เก้าคะแนน (nine points).
THAI_BEFORE_NUMERAL = (
    "ให้คะแนน", "ให้", "คะแนน", "ได้", "เต็ม", "จาก", "ใน", "เป็น", "ก็", "คือ", "ว่า",
)  # fmt: skip
THAI_AFTER_NUMERAL = (
    "คะแนน", "แต้ม", "เต็ม", "จาก", "ใน", "หรือ", "ถึง", "แล้ว", "ไป", "ก็", "เพราะ", "แต่",
    "ละ", "และ",
)  # fmt: skip
THAI_PREPOSITIONS = ("ประมาณ", "กว่า", "เวลา", "ตอน", "ที่", "ภายใน", "หลัง", "ก่อน")

# Rating verbs and nouns. A strong cue makes the next number a rating whatever
# follows it; a weak one ("give", "dam") also gives days and chances, so the
# number must end the clause ("I'd give 9!", but not "gave them 2 chances").
STRONG_CUES = (
    "rate", "rated", "rating", "score", "scored", "grade", "vote", "nps", "mark",
    "ocena", "ocenę", "oceniam", "ocenię", "oceniłbym", "oceniłabym", "oceniłem",
    "oceniłam", "stawiam", "wystawiam", "postawię", "оцінка", "оцінку", "оцінюю",
    "оціню", "оцінив", "оцінила", "ставлю", "поставлю", "поставив", "поставила",
    "оценка", "оценку", "оцениваю", "оценю", "оценил", "оценила", "поставил",
)  # fmt: skip
WEAK_CUES = (
    "give", "gave", "giving", "say", "it's a", "its a", "that's a", "daję", "dam",
    "dałbym", "dałabym", "даю", "дам", "дав", "дала", "дал", "дав би", "дал бы",
)  # fmt: skip
THAI_CUES = ("ให้คะแนน", "ให้", "คะแนน", "ได้")
SUBJECTS = (
    "i", "i'd", "id", "i would", "i will", "i'll", "we", "we'd", "we would", "my",
    "our", "ja", "moja", "nasza", "я", "мы", "ми", "моя", "мій", "мой", "наша",
)  # fmt: skip
# Words that may stand between a cue and its number ("give you guys a solid 9").
GLUE = (
    "you", "u", "ya", "you guys", "it", "us", "them", "this", "that", "a", "an", "at",
    "as", "is", "was", "would be", "will be", "be", "solid", "strong", "full", "firm",
    "big", "fat", "honest", "easy", "easily", "definitely", "like", "me", "wam", "ci",
    "państwu", "mocne", "mocną", "solidne", "solidną", "pełne", "na", "spokojnie",
    "śmiało", "zdecydowanie", "to", "jest", "вам", "тобі", "вас", "тебе", "на", "тверду",
    "твердую", "тверде", "твердое", "сміливо", "смело", "впевнено", "уверенно",
    "спокойно", "честно", "чесно", "це", "это", "є", "бы", "б", "by",
)  # fmt: skip
# Words after a weak cue's number that still close the rating clause.
CLAUSE_ENDERS = (
    "because", "cause", "cuz", "coz", "bc", "as", "since", "but", "and", "for", "from",
    "overall", "easily", "definitely", "honestly", "tbh", "though", "today", "this",
    "so", "if", "when", "here", "too", "also", "thanks", "thank", "thx", "ty", "bo",
    "ale", "i", "za", "ponieważ", "ogólnie", "dla", "od", "бо", "але", "і", "й", "та",
    "за", "від", "загалом", "тому", "потому", "так", "но", "и", "а", "от", "вообще",
    "точно",
)  # fmt: skip
# After a number: "9 points", "9 pkt", "9 балів", "9 คะแนน" - a rating.
POINTS = (
    "point", "points", "pts", "pt", "pkt", "punkt", "punkty", "punktów", "бал", "бали",
    "балів", "бала", "балл", "балла", "баллов", "баллы",
)  # fmt: skip
THAI_POINTS = ("คะแนน", "แต้ม")

# Words that add nothing around a rating: "Hi, 9 thanks!", "10 ครับ".
FILLERS = (
    "please", "pls", "plz", "thanks", "thank you", "thank u", "thx", "tnx", "ty",
    "cheers", "ok", "okay", "hi", "hello", "hey", "dziękuję", "dzięki", "proszę",
    "pozdrawiam", "cześć", "witam", "hej", "спасибо", "пасиб", "пожалуйста", "привет",
    "здравствуйте", "дякую", "будь ласка", "привіт", "вітаю", "na", "ka", "krub", "krap",
)  # fmt: skip
THAI_PARTICLES = ("ครับ", "คับ", "ค่ะ", "คะ", "ค่า", "นะ", "จ้า", "จ้ะ", "เลย")
THAI_FILLERS = (*THAI_PARTICLES, "ขอบคุณครับ", "ขอบคุณค่ะ", "ขอบคุณ", "สวัสดี")

# "N / 10", "N out of 10", "N na 10", "N з 10", "N из 10", "N เต็ม 10".
SCALE_LINKS = ("out of", "outta", "of", "na", "z", "ze", "з", "із", "зі", "из", "на", "on")
THAI_SCALE_LINKS = ("เต็ม", "จาก", "ใน")
# "7-8", "7 or 8", "od 7 do 8": the customer has not made up their mind.
RANGE_LINKS = ("or", "to", "lub", "albo", "czy", "do", "или", "або", "чи", "до", "หรือ", "ถึง")
BETWEEN = ("between", "między", "pomiędzy", "между", "між", "ระหว่าง")
AND = ("and", "i", "a", "и", "і", "та", "й", "และ", "กับ")
# "Not a 10, more like 7", "nie 10, tylko 8", "не 10, а 8": a rating taken back.
NEGATIONS = ("not", "isn't", "wasn't", "nie", "не", "ні")
THAI_NEGATIONS = ("ไม่ถึง", "ไม่ใช่", "ไม่ได้")
ARTICLES = ("a", "an")
# "3 of the items": a message-initial count rather than a rating.
QUANTITY_LINKS = ("of", "z", "ze", "из", "з", "із", "зі")
