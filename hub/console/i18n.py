"""The console's words in Thai (first) and English. A missing key shows itself, not a blank."""
from __future__ import annotations

LANGUAGES = ("th", "en")

TEXT: dict[str, dict[str, str]] = {
    "title": {"th": "ศูนย์แลกเปลี่ยนข้อมูล Back Office", "en": "Back Office interoperability hub"},
    "signin": {"th": "เข้าสู่ระบบ", "en": "Sign in"},
    "signout": {"th": "ออกจากระบบ", "en": "Sign out"},
    "username": {"th": "ชื่อผู้ใช้", "en": "Username"},
    "password": {"th": "รหัสผ่าน", "en": "Password"},
    "bad_login": {"th": "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง", "en": "Wrong username or password"},
    "overview": {"th": "ภาพรวม", "en": "Overview"},
    "messages": {"th": "บันทึกข้อความ", "en": "Message log"},
    "deadletters": {"th": "ข้อความที่ส่งไม่สำเร็จ", "en": "Dead letters"},
    "status": {"th": "สถานะ", "en": "Status"},
    "count": {"th": "จำนวน", "en": "Count"},
    "route": {"th": "เส้นทาง", "en": "Route"},
    "receiver": {"th": "ผู้รับ", "en": "Receiver"},
    "sender": {"th": "ผู้ส่ง", "en": "Sender"},
    "service": {"th": "บริการ", "en": "Service"},
    "correlation": {"th": "รหัสการสนทนา", "en": "Correlation id"},
    "since": {"th": "ตั้งแต่ (UTC)", "en": "Since (UTC)"},
    "search": {"th": "ค้นหา", "en": "Search"},
    "received": {"th": "รับเมื่อ", "en": "Received"},
    "attempts": {"th": "ครั้งที่ส่ง", "en": "Attempts"},
    "last_error": {"th": "ข้อผิดพลาดล่าสุด", "en": "Last error"},
    "backlog": {"th": "ค้างส่ง", "en": "Backlog"},
    "dead": {"th": "ส่งไม่สำเร็จ", "en": "Dead letters"},
    "by_route": {"th": "แยกตามเส้นทางและผู้รับ", "en": "Per route and receiver"},
    "by_status": {"th": "แยกตามสถานะ", "en": "Per status"},
    "needs_action": {"th": "มีข้อความที่ส่งไม่สำเร็จ {n} รายการ รอการส่งใหม่",
                     "en": "{n} dead letter(s) wait for a replay"},
    "all_clear": {"th": "ไม่มีรายการที่ต้องดำเนินการ", "en": "Nothing needs action"},
    "audit_lag": {"th": "บันทึกตรวจสอบตามหลัง {n} เหตุการณ์", "en": "Audit trail behind by {n} event(s)"},
    "timeline": {"th": "ลำดับเหตุการณ์", "en": "Timeline"},
    "event": {"th": "เหตุการณ์", "en": "Event"},
    "at": {"th": "เวลา", "en": "At"},
    "detail": {"th": "รายละเอียด", "en": "Detail"},
    "replay": {"th": "ส่งใหม่", "en": "Replay"},
    "reason": {"th": "เหตุผล", "en": "Reason"},
    "replayed": {"th": "ส่งใหม่แล้ว", "en": "Replayed"},
    "conversation": {"th": "ข้อความในการสนทนาเดียวกัน", "en": "Conversation"},
    "replay_selected": {"th": "ส่งใหม่รายการที่เลือก", "en": "Replay selected"},
    "select_all": {"th": "เลือกทั้งหมด", "en": "Select all"},
    "cause": {"th": "สาเหตุ", "en": "Cause"},
    "task": {"th": "งานส่งใหม่", "en": "Replay task"},
    "progress": {"th": "ความคืบหน้า", "en": "Progress"},
    "stop": {"th": "หยุด", "en": "Stop"},
    "finished": {"th": "เสร็จแล้ว", "en": "Finished"},
    "stopped": {"th": "หยุดแล้ว", "en": "Stopped"},
    "running": {"th": "กำลังทำงาน", "en": "Running"},
    "failed": {"th": "ไม่สำเร็จ", "en": "Failed"},
    "none": {"th": "ไม่มีรายการ", "en": "Nothing here"},
    "forbidden": {"th": "บทบาทของท่านไม่มีสิทธิ์ทำรายการนี้", "en": "Your role may not do this"},
    "not_found": {"th": "ไม่พบรายการ", "en": "Not found"},
    "signed_in_as": {"th": "ผู้ใช้", "en": "Signed in as"},
    "roles": {"th": "บทบาท", "en": "Roles"},
    "choose": {"th": "เลือกอย่างน้อยหนึ่งรายการ", "en": "Choose at least one"},
    "reason_needed": {"th": "โปรดระบุเหตุผล", "en": "Give a reason"},
}


def translate(lang: str, key: str, **values: object) -> str:
    entry = TEXT.get(key)
    if entry is None:
        return f"[{key}]"
    return entry.get(lang, entry["th"]).format(**values)
