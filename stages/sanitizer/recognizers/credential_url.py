"""CREDENTIAL_URL: URLs that carry a secret: a password in the user info (`https://bob:pw@host/`), a
query or fragment parameter named like a secret (`?token=...`, `#access_token=...`, `?sig=...`), or a JWT
anywhere in them. The whole URL is replaced: its path and other parameters often identify the person too.
Plain URLs are left alone. Normalized to the URL as written."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from stages.sanitizer.recognizers.base import Detection, TextContext

ENTITY_TYPE = "CREDENTIAL_URL"
SCORE = 0.95

_URL = re.compile(r"(?<![\w@])(?:(?:https?|ftp|wss?)://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
# Parameter names (lower case, without separators) whose values are secrets.
SECRET_PARAMETERS = frozenset({
    "token", "accesstoken", "idtoken", "refreshtoken", "authtoken", "sessiontoken", "resettoken", "apikey",
    "key", "secret", "clientsecret", "password", "passwd", "pwd", "pass", "auth", "authorization", "sig",
    "signature", "xamzsignature", "xamzsecuritytoken", "xgoogsignature", "session", "sessionid", "sid",
    "code", "otp", "jwt", "ticket", "hash", "credential", "credentials",
})
_SEPARATORS = re.compile(r"[-_.]")
_JWT = re.compile(r"eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]{10,}")


class CredentialUrlRecognizer:
    entity_type = ENTITY_TYPE
    context_words: tuple[str, ...] = ()
    ner_labels: frozenset[str] = frozenset()

    def detect(self, text: str, context: TextContext) -> list[Detection]:
        found = []
        for match in _URL.finditer(text):
            url = match.group().rstrip(_TRAILING)
            if carries_secret(url):
                found.append(Detection(match.start(), match.start() + len(url), ENTITY_TYPE, SCORE, url))
        return found


def carries_secret(url: str) -> bool:
    if _JWT.search(url):
        return True
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
    except ValueError:  # a malformed IPv6 host, say: no URL then
        return False
    if parts.password:
        return True
    parameters = parse_qsl(parts.query, keep_blank_values=False) + parse_qsl(parts.fragment)
    return any(_SEPARATORS.sub("", name.lower()) in SECRET_PARAMETERS for name, _ in parameters)
