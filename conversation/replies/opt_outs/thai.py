"""Opt-out requests in Thai: no spaces, so the message object is what tells "ส่ง" (send) apart."""

from conversation.replies import vocabulary as v
from conversation.replies.opt_outs.grammar import TH_END, S, any_of, words

_ME = words("ผม", "ฉัน", "หนู", "เรา", "ดิฉัน", "เค้า")
_MESSAGES = words(
    "ข้อความ", "sms", "เอสเอ็มเอส", "ข่าวสาร", "แบบสอบถาม", "แบบสำรวจ", "การแจ้งเตือน",
    "แจ้งเตือน", "อีเมล",
)  # fmt: skip
# What may follow "ส่ง" (send) to the end of the clause: "มาอีก", "ได้แล้ว", "ซะที", particles.
_TAIL = (
    rf"(?:{S}"
    + any_of(
        words(
            "มา", "อีก", "แล้ว", "ได้แล้ว", "เถอะ", "ซะที", "สักที", "เสียที", "ด้วย", "ได้ไหม",
            "ได้มั้ย", "ได้มั๊ย", "แบบนี้", "พวกนี้", "กวน", "กวนใจ", "ถาม", *v.THAI_PARTICLES,
        ),
        rf"(?:มา)?หา{_ME}",
        rf"ให้{_ME}",
        rf"ทาง{S}{_MESSAGES}",  # "by text": this very channel
    )
    + "){0,8}"
)  # fmt: skip
_STOP = words("เลิก", "หยุด", "อย่า", "ไม่ต้อง")
PHRASES = (
    rf"{_STOP}{S}ส่ง(?:{S}{_MESSAGES}{_TAIL}|(?:{S}อะไร)?{_TAIL}{TH_END})",
    rf"{_STOP}{S}{words('ติดต่อ', 'ทักแชท', 'ทัก')}{_TAIL}{TH_END}",
    rf"{words('ลบ', 'เอา', 'ถอด')}{S}เบอร์(?:โทร(?:ศัพท์)?)?(?:{S}(?:ของ)?{_ME})?{S}ออก"
    rf"(?:{S}จาก{S}{words('ระบบ', 'รายชื่อ', 'ลิสต์', 'list', 'ฐานข้อมูล', 'รายการ')})?",
    rf"ยกเลิก(?:การ)?(?:รับ|ส่ง)?(?:บริการ)?{S}{_MESSAGES}{_TAIL}",
    rf"(?:ขอ)?ไม่(?:ต้องการ|อยาก|ขอ|ประสงค์)?(?:จะ)?(?:ได้)?รับ{S}{_MESSAGES}{_TAIL}",
)
LIKELY = (
    rf"{words('อย่า', 'ไม่ต้อง', 'เลิก')}(?:มา)?ยุ่ง(?:{S}กับ{S}{_ME})?{_TAIL}",
    rf"{_STOP}(?:มา)?{words('รบกวน', 'กวนใจ', 'กวน')}{_TAIL}{TH_END}",
    # "ขอยกเลิกครับ" as the whole message: please cancel (what, it does not say).
    rf"ขอ{words('ยกเลิก', 'เลิก', 'หยุด')}{_TAIL}(?=[\s.!]*\Z)",
)
