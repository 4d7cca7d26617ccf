"""e-CMS error codes (``ErrorDetail``) and the code lists the node publishes.

Every refusal of the node is an :class:`EcmsFault` with one of the documented codes below;
the same table is published in ``standards/th.ecms.service/1.0.0/README.md``. A refused
request changes nothing. What *another* node answers (or a failure to reach it) is a
:class:`PeerError` carrying that node's code.
"""
from __future__ import annotations

from hub.errors import AdapterError
from hub.schemas.envelope import SECRECY_NAMES, SPEED_NAMES

# code -> (short name, when it is used)
ERROR_CODES: dict[str, tuple[str, str]] = {
    "E001": ("MalformedXml", "the request is not well-formed XML or not a SOAP 1.1 envelope"),
    "E002": ("UnsafeXml", "the request carries a DTD or entity declaration or exceeds a size/depth limit"),
    "E003": ("UnknownOperation", "the SOAP body root is not an e-CMS operation"),
    "E004": ("MissingField", "a mandatory field is missing or empty"),
    "E005": ("InvalidField", "a field has an invalid value (date, code, schema rule)"),
    "E006": ("InvalidBase64", "a binary object is not valid base64"),
    "E007": ("UnknownDepartment", "a ministry or department code is not registered on this node"),
    "E008": ("SenderMismatch", "the sender department is not the authenticated agency"),
    "E009": ("Unauthenticated", "no or wrong credentials"),
    "E010": ("UnknownProcessID", "no item with this ProcessID in the caller's queue"),
    "E011": ("UnknownLetter", "no letter with this LetterID and date between these departments"),
    "E012": ("AlreadyRead", "the receiver has already read the letter; it can no longer be withdrawn"),
    "E013": ("NotCleared", "the receiving department is not cleared for the letter's secrecy code"),
    "E014": ("TooLarge", "the request is larger than the node accepts"),
    "E015": ("DuplicateLetter", "a different letter with this LetterID and date was already sent; withdraw it first"),
    "E016": ("NoRoute", "the hub has no route to the receiving department"),
    "E017": ("NoAccessRight", "the sending department's subsystem holds no right for ecms.letter/v1 toward the receiver's"),
    "E099": ("InternalError", "the node failed; the request may be retried"),
}


class EcmsFault(Exception):
    """A refusal, answered as a SOAP fault carrying ``ErrorDetail``."""

    def __init__(self, code: str, description: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"undocumented e-CMS error code {code!r}")
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description

    @property
    def name(self) -> str:
        return ERROR_CODES[self.code][0]


# Refusals of the item itself: sending it again cannot succeed. Anything else a remote node
# answers (E009 credentials, E010, E016 route, E099, or no answer at all) may pass later.
PERMANENT_CODES = frozenset({"E001", "E002", "E003", "E004", "E005", "E006", "E007", "E008",
                             "E011", "E012", "E013", "E014", "E015"})


class PeerError(AdapterError):
    """A call to a remote e-CMS node failed; ``ecms_code`` is its ErrorCode (E099 for transport)."""

    code = "ecms_peer"

    def __init__(self, message: str, *, ecms_code: str) -> None:
        super().__init__(message)
        self.ecms_code = ecms_code

    @property
    def permanent(self) -> bool:
        return self.ecms_code in PERMANENT_CODES


SECRET_CODES = dict(SECRECY_NAMES)
SPEED_CODES = dict(SPEED_NAMES)

# The file types e-Saraban systems exchange; GetMimeCodes publishes them.
MIME_CODES: dict[str, str] = {
    "application/pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/zip": "zip",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/tiff": "tif",
    "text/plain": "txt",
    "application/xml": "xml",
}
