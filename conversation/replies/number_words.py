"""Number words 0–10 as customers type them, in en, pl, uk, ru and th.

Plain data, written the way a native speaker spells it (with diacritics, ё and
the Ukrainian apostrophe). The reply parser folds case, Polish diacritics, ё and
every apostrophe variant before looking a word up, so "dziewiec", "ДЕВ’ЯТЬ" and
"восьмерку" need no entry of their own. No library parses number words back in
all five languages; num2words is the oracle the tests check these tables against.
"""

# Cardinals and the case forms that follow a preposition or a verb
# ("osiem na dziesięć", "из десяти", "dziewięciu").
CARDINALS: dict[int, tuple[str, ...]] = {
    0: ("zero", "nil", "нуль", "ноль", "нуля", "ноля"),
    1: (
        "one",
        "jeden",
        "jedna",
        "jedno",
        "jedną",
        "jednego",
        "один",
        "одна",
        "одне",
        "одно",
        "одну",
        "одного",
        "одної",
    ),  # fmt: skip
    2: ("two", "dwa", "dwie", "dwóch", "dwoje", "два", "дві", "две", "двох", "двух"),
    3: ("three", "thre", "trzy", "trzech", "troje", "три", "трьох", "трёх"),
    4: ("four", "cztery", "czterech", "чотири", "чотирьох", "четыре", "четырёх"),
    5: ("five", "pięć", "pięciu", "п'ять", "п'яти", "пять", "пяти"),
    6: ("six", "sześć", "sześciu", "шість", "шести", "шесть"),
    7: ("seven", "siedem", "siedmiu", "сім", "семи", "семь"),
    8: ("eight", "eigth", "osiem", "ośmiu", "вісім", "восьми", "восемь"),
    9: ("nine", "dziewięć", "dziewięciu", "дев'ять", "дев'яти", "девять", "девяти"),
    10: ("ten", "dziesięć", "dziesięciu", "десять", "десяти"),
}

# Grade nouns: people say "ósemka", "дев'ятку", "десяточка", "dycha" for a mark
# on a scale, so a grade noun is a rating by itself, not a count of things.
GRADE_NOUNS: dict[int, tuple[str, ...]] = {
    1: ("jedynka", "jedynkę", "одиниця", "одиницю", "одиничка", "единица", "единицу", "единичка"),
    2: ("dwójka", "dwójkę", "dwója", "dwóję", "двійка", "двійку", "двойка", "двойку"),
    3: ("trójka", "trójkę", "трійка", "трійку", "тройка", "тройку"),
    4: ("czwórka", "czwórkę", "четвірка", "четвірку", "четвёрка", "четвёрку"),
    5: (
        "piątka",
        "piątkę",
        "piąteczka",
        "piąteczkę",
        "п'ятірка",
        "п'ятірку",
        "п'ятірочка",
        "п'ятірочку",
        "пятёрка",
        "пятёрку",
        "пятёрочка",
        "пятёрочку",
    ),  # fmt: skip
    6: ("szóstka", "szóstkę", "шістка", "шістку", "шестёрка", "шестёрку"),
    7: ("siódemka", "siódemkę", "сімка", "сімку", "семёрка", "семёрку"),
    8: (
        "ósemka",
        "ósemkę",
        "ósemeczka",
        "ósemeczkę",
        "вісімка",
        "вісімку",
        "вісімочка",
        "вісімочку",
        "восьмёрка",
        "восьмёрку",
        "восьмёрочка",
        "восьмёрочку",
    ),  # fmt: skip
    9: (
        "dziewiątka",
        "dziewiątkę",
        "dziewiąteczka",
        "dziewiąteczkę",
        "дев'ятка",
        "дев'ятку",
        "дев'яточка",
        "дев'яточку",
        "девятка",
        "девятку",
        "девяточка",
        "девяточку",
    ),  # fmt: skip
    10: (
        "dziesiątka",
        "dziesiątkę",
        "dziesiąteczka",
        "dziesiąteczkę",
        "dycha",
        "dychę",
        "dyszka",
        "dyszkę",
        "десятка",
        "десятку",
        "десяточка",
        "десяточку",
    ),  # fmt: skip
}

# Words that are also everyday prose: "the one I bought", "jeden z kurierów",
# "один раз", "วันหนึ่ง", "ศูนย์บริการ" (service centre), and "pięć" typed
# without diacritics, which is "piec" (a stove, sold by the shops we serve).
# They count only when they stand alone, next to "/10" or after a rating verb.
PROSE_WORDS: frozenset[str] = frozenset((*CARDINALS[1], "zero", "nil", "pięć", "หนึ่ง", "ศูนย์"))

# Thai writes no spaces, so these are matched inside runs of Thai text.
THAI: dict[str, int] = {
    "ศูนย์": 0,
    "หนึ่ง": 1,
    "สอง": 2,
    "สาม": 3,
    "สี่": 4,
    "ห้า": 5,
    "หก": 6,
    "เจ็ด": 7,
    "แปด": 8,
    "เก้า": 9,
    "สิบ": 10,
}

# Pieces that only occur inside larger Thai numerals: สิบเอ็ด 11, ยี่สิบ 20,
# ห้าร้อย 500. A run containing them is never a 0–10 rating.
THAI_COMPOUND_PARTS: tuple[str, ...] = ("เอ็ด", "ยี่", "ร้อย", "พัน", "หมื่น", "แสน", "ล้าน")
