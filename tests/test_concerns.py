"""Which words after the review invite need a person (issue 14, bug 2): a question or a
complaint goes to a rep, praise is the response's comment. Five languages."""

import pytest

from conversation.replies.concerns import asks_question, complains, needs_answer

PRAISE = {
    "en": ["Great service, thank you!", "No problem at all, the car is perfect",
           "Not bad at all, Anna was lovely", "How lovely, thanks!"],
    "pl": ["Wszystko super, dziękuję!", "Bez problemu, polecam", "Nie mogło być lepiej!",
           "Jak zawsze świetnie!", "Zlecenie wykonane sprawnie, dzięki"],
    "uk": ["Дуже дякую, все чудово!", "Без проблем, рекомендую", "Як завжди, супер!"],
    "ru": ["Спасибо, всё отлично!", "Неплохо, без проблем", "Как всегда, отлично!"],
    "th": ["บริการดีมากค่ะ", "ขอบคุณมากครับ ประทับใจ", "ไม่มีปัญหาเลยค่ะ ดีมาก"],
}  # fmt: skip
QUESTIONS = {
    "en": ["When is my first service due", "Can I book a wheel change for Friday",
           "where do I get the second key?"],
    "pl": ["Kiedy mam przyjechać na przegląd", "Czy mogę zmienić termin wizyty",
           "Ile kosztuje wymiana opon"],
    "uk": ["Коли наступне ТО", "Чи можна перенести візит", "Скільки коштує заміна шин"],
    "ru": ["Когда следующее ТО", "Подскажите, сколько стоит замена шин", "Можно перенести визит"],
    "th": ["เข้าศูนย์ครั้งต่อไปเมื่อไหร่คะ", "เปลี่ยนยางราคาเท่าไหร่ ได้ไหมครับ", "ทำไมยังไม่โทรกลับ"],
}  # fmt: skip
COMPLAINTS = {
    "en": ["The air con is not working again", "Still waiting for my refund",
           "Salesman was rude"],
    "pl": ["Klimatyzacja nie działa", "Niestety znowu stuka w zawieszeniu", "Źle wymienili olej"],
    "uk": ["Кондиціонер не працює", "На жаль, знову стукає підвіска", "Погано помили авто"],
    "ru": ["Кондиционер не работает", "К сожалению, снова стук в подвеске", "Сломался замок"],
    "th": ["แอร์เสียอีกแล้ว", "ไม่พอใจการบริการ", "รถมีปัญหาค่ะ"],
}  # fmt: skip
LANGUAGES = ("en", "pl", "uk", "ru", "th")


@pytest.mark.parametrize("language", LANGUAGES)
def test_praise_needs_no_answer(language: str) -> None:
    for text in PRAISE[language]:
        assert not needs_answer(text), text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_question_needs_an_answer_even_without_a_question_mark(language: str) -> None:
    for text in QUESTIONS[language]:
        assert asks_question(text) and needs_answer(text), text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_complaint_needs_an_answer(language: str) -> None:
    for text in COMPLAINTS[language]:
        assert complains(text) and needs_answer(text), text
