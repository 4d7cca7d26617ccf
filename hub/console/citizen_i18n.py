"""The citizen pages' words, Thai first (hub.console.citizen). A missing key shows itself."""
from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "title": {"th": "ข้อมูลของฉันในศูนย์แลกเปลี่ยนข้อมูลภาครัฐ", "en": "My data on the government exchange hub"},
    "signin": {"th": "เข้าสู่ระบบด้วยเลขประจำตัวประชาชน", "en": "Sign in with your citizen ID"},
    "signout": {"th": "ออกจากระบบ", "en": "Sign out"},
    "citizen_id": {"th": "เลขประจำตัวประชาชน 13 หลัก", "en": "13-digit citizen ID"},
    "password": {"th": "รหัสผ่าน", "en": "Password"},
    "bad_login": {"th": "เลขประจำตัวประชาชนหรือรหัสผ่านไม่ถูกต้อง", "en": "Wrong citizen ID or password"},
    "signed_in_as": {"th": "ผู้ใช้", "en": "Signed in as"},
    "consent_title": {"th": "คำขอความยินยอมให้ใช้ข้อมูลของท่าน", "en": "A request to use your data"},
    "asks": {"th": "บริการ {name} ขอความยินยอมจากท่านเพื่ออ่านข้อมูลต่อไปนี้จากหน่วยงานที่เก็บข้อมูล",
             "en": "{name} asks your consent to read the following data from the agencies that hold it"},
    "eservice": {"th": "บริการ", "en": "e-Service"},
    "purpose": {"th": "วัตถุประสงค์", "en": "Purpose"},
    "groups": {"th": "กลุ่มข้อมูล", "en": "Field groups"},
    "duration": {"th": "ระยะเวลา", "en": "Duration"},
    "days_until": {"th": "{days} วัน (ถึง {until})", "en": "{days} days (until {until})"},
    "grant": {"th": "ยินยอม", "en": "I consent"},
    "refuse": {"th": "ไม่ยินยอม", "en": "I refuse"},
    "revocable": {"th": "ท่านเพิกถอนความยินยอมได้ทุกเมื่อที่หน้า \u201cความยินยอมของฉัน\u201d",
                  "en": "You can revoke this consent at any time on \u201cMy consents\u201d"},
    "consents": {"th": "ความยินยอมของฉัน", "en": "My consents"},
    "eservice_consents": {"th": "ความยินยอมที่ท่านให้แก่บริการอิเล็กทรอนิกส์", "en": "Consents you gave to e-services"},
    "agency_consents": {"th": "ความยินยอมที่หน่วยงานบันทึกไว้ (ระหว่างหน่วยงาน)",
                        "en": "Consents recorded by agencies (agency to agency)"},
    "granted_at": {"th": "ให้เมื่อ", "en": "Granted"},
    "expires_at": {"th": "หมดอายุ", "en": "Expires"},
    "state": {"th": "สถานะ", "en": "Status"},
    "valid": {"th": "มีผล", "en": "In force"},
    "revoked_state": {"th": "เพิกถอนแล้ว", "en": "Revoked"},
    "expired": {"th": "หมดอายุแล้ว", "en": "Expired"},
    "revoke": {"th": "เพิกถอน", "en": "Revoke"},
    "revoked": {"th": "เพิกถอนความยินยอมแล้ว การอ่านครั้งต่อไปจะถูกปฏิเสธ",
                "en": "Consent revoked: the next read will be refused"},
    "consumer": {"th": "ผู้ขอใช้ข้อมูล", "en": "Consumer"},
    "recorded_by": {"th": "บันทึกโดย", "en": "Recorded by"},
    "reads": {"th": "ใครอ่านข้อมูลของฉัน", "en": "Who read my data"},
    "reads_intro": {"th": "ทุกครั้งที่หน่วยงานหรือบริการอ่านข้อมูลของท่าน จะถูกบันทึกในบันทึกตรวจสอบที่ลงนามแล้ว "
                              "ซึ่งไม่มีหน่วยงานใดซ่อนหรือลบได้",
                    "en": "Every read of your data by an agency or an e-service is in the signed audit trail, "
                          "which no agency can hide or delete"},
    "at": {"th": "เวลา", "en": "When"},
    "reader": {"th": "ผู้อ่าน", "en": "Reader"},
    "fields": {"th": "ข้อมูลที่อ่าน", "en": "Fields read"},
    "basis": {"th": "ฐานการอ่าน", "en": "Basis"},
    "entry": {"th": "รายการบันทึก", "en": "Audit entry"},
    "export": {"th": "ส่งออก", "en": "Export"},
    "none": {"th": "ไม่มีรายการ", "en": "Nothing here"},
    "bad_request": {"th": "คำขอนี้ไม่ถูกต้อง จึงไม่ส่งท่านกลับไปยังบริการที่ขอ",
                    "en": "This request is not valid, so you are not sent back to the service that made it"},
    "forbidden": {"th": "ไม่อนุญาตให้ทำรายการนี้ (แบบฟอร์มหมดอายุหรือไม่ได้มาจากหน้านี้)",
                  "en": "Not allowed (the form expired or did not come from this page)"},
    "not_citizen": {"th": "บัญชีนี้ไม่ใช่บัญชีประชาชน", "en": "This account is not a citizen's account"},
    "not_found": {"th": "ไม่พบรายการ", "en": "Not found"},
    "kind_eservice": {"th": "บริการอิเล็กทรอนิกส์", "en": "e-Service"},
    "kind_agency": {"th": "หน่วยงาน", "en": "Agency"},
    "kind_admin": {"th": "ผู้ดูแลระบบ", "en": "Hub admin"},
    "basis_citizen_consent": {"th": "ความยินยอมของท่าน", "en": "Your consent"},
    "basis_agency_consent": {"th": "ความยินยอมที่หน่วยงานบันทึก", "en": "Consent recorded by an agency"},
    "basis_owner": {"th": "หน่วยงานเจ้าของข้อมูล", "en": "The agency that owns the data"},
    "basis_admin": {"th": "ผู้ดูแลระบบ", "en": "Hub admin"},
}


def translate(lang: str, key: str, **values: object) -> str:
    entry = TEXT.get(key)
    if entry is None:
        return f"[{key}]"
    return entry.get(lang, entry["th"]).format(**values)
