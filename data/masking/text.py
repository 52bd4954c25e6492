"""Free-text detectors: secrets, credentials and personal data inside any string Agent Desk shows.

Detectors (in the order they run):

1. PEM / PuTTY private-key blocks (the headers are detect-secrets' `PrivateKeyDetector` list; the whole
   block to its END line, or to the end of the text when truncated, is masked).
2. detect-secrets' regex plugins (`denylist` of AWS, Azure storage, basic-auth URLs, Discord, GitHub,
   GitLab, JWT, Mailchimp, npm, OpenAI, PyPI, SendGrid, Slack, Square, Stripe, Telegram, Twilio),
   each match extended to the end of its token (their patterns end at a fixed length).
3. Our own provider-key shapes (Dify `app-`/`dataset-` keys, `sk-`/`sk_live_`, Anthropic, Google,
   Hugging Face, Groq, Tavily, ...) and `Bearer` / `Basic` credentials.
4. Signed-URL query parameters (`token=`, `signature=`, `X-Amz-Signature=`, `sig=`, ...).
5. `NAME = value` / `NAME: value` / `--name value` assignments whose NAME is secret-looking by the same
   rule as JSON keys (`data.masking.keys.is_secret_key`); a quoted value is masked whole.
6. Personal data: e-mail addresses and phone numbers (international `+` numbers, `(555) 123-4567` /
   `555-123-4567` shapes, and digit runs after `phone:` / `tel:` / `mobile:`).

Invariants:
* `mask_text` keeps the number of lines: a masked span that crossed newlines is replaced by its
  marker followed by the same newlines (the diff shows masked lines aligned with raw ones).
* It is idempotent: markers match no detector.
* Patterns are linear-time (no nested quantifiers over the same characters) and the costly ones run
  only when a cheap substring test says they can match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache, lru_cache

from data.masking.keys import is_secret_key

MASK_TOKEN = "[masked token]"
MASK_EMAIL = "[masked email]"
MASK_PHONE = "[masked phone]"
MARKERS = ("[masked token]", "[masked email]", "[masked phone]", "[masked: set]", "[masked: empty]")

Replacer = Callable[[re.Match[str]], str]


def _keep_lines(marker: str, span_text: str) -> str:
    """The marker, followed by the newlines of the masked span (keeps line numbers)."""
    return marker + "\n" * span_text.count("\n")


# Characters a token continues with: detect-secrets patterns stop at a fixed length, we do not.
_TOKEN_TAIL = re.compile(r"[A-Za-z0-9_\-+/=.~]*")


def _tail_end(text: str, end: int) -> int:
    """End of the token that a match ending at `end` belongs to (trailing `.`/`=` of prose excluded)."""
    stop = _TOKEN_TAIL.match(text, end).end()  # type: ignore[union-attr]
    while stop > end and text[stop - 1] in ".":
        stop -= 1
    return stop


_DOTTED_TOKEN = re.compile(r"\.[A-Za-z0-9_-]{6}\.")
_COLON_TOKEN = re.compile(r":[0-9A-Za-z_-]{35}")

#: Cheap preconditions for detect-secrets patterns whose regex cannot start with a literal (sre then
#: tries every position): the pattern runs only when its gate says it can match. Keyed by plugin
#: class name and pattern index; patterns without a gate start with a literal and are fast anyway.
_DS_GATES: dict[tuple[str, int], Callable[[str, str], bool]] = {
    ("AWSKeyDetector", 1): lambda text, low: "aws" in low,
    ("DiscordBotTokenDetector", 0): lambda text, low: _DOTTED_TOKEN.search(text) is not None,
    ("MailchimpDetector", 0): lambda text, low: "-us" in text,
    ("SlackDetector", 0): lambda text, low: "xox" in low,
    ("SlackDetector", 1): lambda text, low: "hooks.slack.com" in low,
    ("StripeDetector", 0): lambda text, low: "k_live_" in text,
    ("TelegramBotTokenDetector", 0): lambda text, low: _COLON_TOKEN.search(text) is not None,
    ("NpmDetector", 0): lambda text, low: "_authtoken" in low,
}


@cache
def _detect_secrets_patterns() -> tuple[tuple[re.Pattern[str], bool, Callable[[str, str], bool] | None], ...]:
    """(pattern, mask only its last group, gate) from detect-secrets' regex plugins, loaded once,
    lazily (the library costs ~0.3 s to import; pages import masking long before they mask anything).

    Left out on purpose: ArtifactoryDetector (matches capitalised words like `APACHEKAFKA`), the
    keyword-style Cloudant / IBM / SoftLayer patterns (our assignment detector covers `key = value`),
    IPPublicDetector (an IP address is not a secret), KeywordDetector and the entropy plugins (they
    scan by file type and entropy, not by a regex we can substitute; entropy would eat UUIDs and hashes).
    """
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
    from detect_secrets.plugins.basic_auth import BasicAuthDetector
    from detect_secrets.plugins.discord import DiscordBotTokenDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.mailchimp import MailchimpDetector
    from detect_secrets.plugins.npm import NpmDetector
    from detect_secrets.plugins.openai import OpenAIDetector
    from detect_secrets.plugins.pypi_token import PypiTokenDetector
    from detect_secrets.plugins.sendgrid import SendGridDetector
    from detect_secrets.plugins.slack import SlackDetector
    from detect_secrets.plugins.square_oauth import SquareOAuthDetector
    from detect_secrets.plugins.stripe import StripeDetector
    from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
    from detect_secrets.plugins.twilio import TwilioKeyDetector

    # Plugins whose capture group is the secret itself (the rest of the match is context: a URL's
    # user and host, the `aws_secret_access_key = "` before the value).
    group_is_secret = {BasicAuthDetector, AWSKeyDetector, NpmDetector}
    plugins = (
        AWSKeyDetector,
        AzureStorageKeyDetector,
        BasicAuthDetector,
        DiscordBotTokenDetector,
        GitHubTokenDetector,
        GitLabTokenDetector,
        JwtTokenDetector,
        MailchimpDetector,
        NpmDetector,
        OpenAIDetector,
        PypiTokenDetector,
        SendGridDetector,
        SlackDetector,
        SquareOAuthDetector,
        StripeDetector,
        TelegramBotTokenDetector,
        TwilioKeyDetector,
    )
    out = []
    for plugin in plugins:
        for index, pattern in enumerate(plugin.denylist):
            gate = _DS_GATES.get((plugin.__name__, index))
            out.append((pattern, plugin in group_is_secret and pattern.groups > 0, gate))
    return tuple(out)


@cache
def _private_key_block() -> re.Pattern[str]:
    from detect_secrets.plugins.private_key import PrivateKeyDetector

    headers = "|".join(p.pattern for p in PrivateKeyDetector.denylist)
    # From the header to the matching END line, or to the end of the text (a truncated key).
    return re.compile(
        rf"(?:-----)?(?:{headers})(?:-----)?.*?(?:-----END [A-Z0-9 ]*?(?:KEY|BLOCK)(?: BLOCK)?-----|\Z)",
        re.DOTALL,
    )


# Our own shapes: Dify and the model / tool providers Dify users plug in. Every branch starts with a
# literal so sre can skip ahead; the word boundary before the match is checked in `_provider_key`.
#: (required literal, pattern): a pattern runs only when its literal is in the text.
_PROVIDER_KEYS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (literal, re.compile(pattern))
    for literal, pattern in (
        ("app-", r"app-[A-Za-z0-9]{20,}"),  # Dify app API keys
        ("dataset-", r"dataset-[A-Za-z0-9]{20,}"),  # Dify knowledge API keys
        ("k-", r"[spr]k-(?:[A-Za-z0-9]+-){0,3}[A-Za-z0-9_-]{12,}"),  # OpenAI, Anthropic, DeepSeek
        ("_live_", r"(?:sk|pk|rk|whsec)_live_[A-Za-z0-9]{8,}"),  # Stripe, any length
        ("_test_", r"(?:sk|pk|rk|whsec)_test_[A-Za-z0-9]{8,}"),
        ("gh", r"(?:ghp|gho|ghs|ghu|ghr|github_pat)_[A-Za-z0-9_]{10,}"),
        ("xox", r"xox[abprse]-[A-Za-z0-9-]{10,}"),
        ("glpat-", r"glpat-[A-Za-z0-9_-]{10,}"),
        ("AIza", r"AIza[A-Za-z0-9_-]{20,}"),  # Google API keys
        ("_", r"(?:hf|gsk|r8|pcsk|lsv2_pt|lsv2_sk|jina|fw|npm)_[A-Za-z0-9_]{16,}"),  # HF, Groq, ...
        ("-", r"(?:tvly|pplx|xai|nvapi|fc)-[A-Za-z0-9_-]{16,}"),  # Tavily, Perplexity, xAI, ...
        ("A", r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}"),  # AWS access key ids
    )
)
_AUTH_SCHEME = re.compile(r"(?i)(bearer|basic|token|digest)(\s+)([A-Za-z0-9._~+/=-]{8,})")
_URL_PARAM = re.compile(r"([?&;])([A-Za-z0-9_.\-]{1,64})=([^&#\s\"'<>\\]+)")
#: Query parameters of signed URLs (S3, GCS, Azure SAS, CDN tokens) besides secret-looking names.
SIGNED_URL_PARAMS = frozenset(
    {
        "sig",
        "signature",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "sv",
        "se",
        "code",
        "key",
        "token",
        "access_token",
        "auth",
        "authkey",
        "policy",
        "key-pair-id",
        "hmac",
        "hash",
    }
)

#: Stems of secret-looking names, searched in the lower-cased text to find assignment candidates
#: cheaply; each hit's whole word is then judged by `is_secret_key`.
_STEMS = re.compile(
    r"secret|token|passw|passph|pass|pwd|pw|credential|key|auth|cookie|pin|otp|sig|dsn|jwt|hmac|sas"
)
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")
# What follows a secret-looking name: `= v`, `: v`, `": "v"`, a newline in between, or (for `--name`
# flags only) spaces. A quoted value is masked whole ("two words").
_AFTER_NAME = re.compile(
    r"(?P<sep>[\"']?\s*[:=]\s*|[ \t]+)"
    r"(?P<val>\\\"(?:(?!\\\")[^\n])*(?:\\\")?"  # \"quoted\" inside a JSON string
    r"|\"(?:[^\"\\\n]|\\.)*\"?|'[^'\n]*'?|[^\s\"',;})\]\\]+)"
)

_DIGIT = re.compile(r"\d")
_SUSPICIOUS = re.compile(r"[\d@:=]")
_EMAIL = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
_EMAIL_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
# Phones: an international "+" number, a North-American shape, or digits after a phone keyword. The
# characters around a match must not continue a word, a dash/colon/slash run or a decimal, so UUIDs,
# dates, times, versions and numeric ids survive.
_PHONE_PLUS = re.compile(r"\+\d{1,3}(?:[ .\-]?\(\d{1,4}\))?(?:[ .\-]?\d{1,5}){2,6}")
_PHONE_PAREN = re.compile(r"\(\d{3}\)[ .\-]?\d{3}[ .\-]\d{4}")
_PHONE_PLAIN = re.compile(r"\d{3}(?:[ .]\d{3}[ .]|-\d{3}-)\d{4}")
_PHONE_BEFORE = frozenset("+-./:_") | frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)
_PHONE_AFTER = frozenset("-:/_") | frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_PHONE_WORDS = re.compile(r"phone|tel|mobile|cell|whatsapp|fax|sms")
_PHONE_AFTER_WORD = re.compile(
    r"[a-z]*(?:\s*(?:no\.?|number|#))?\s*[:=]?\s*(?P<num>\+?\(?\d[\d ()./\-]{5,20}\d)(?![\w\-:])",
    re.IGNORECASE,
)


def _sub_group(pattern: re.Pattern[str], group: int, marker: str) -> Replacer:
    def replace(m: re.Match[str]) -> str:
        start, end = m.start(group) - m.start(), m.end(group) - m.start()
        whole = m.group(0)
        return whole[:start] + _keep_lines(marker, whole[start:end]) + whole[end:]

    return replace


#: Every token shape but a basic-auth URL needs 16+ token characters in a row: a text without such a
#: run skips them all (most labels, names and prose lines), which keeps short strings cheap.
_LONG_RUN = re.compile(r"[A-Za-z0-9_\-+/=.:]{16}")


def _mask_detect_secrets(text: str, lowered: str, long_run: bool) -> str:
    for pattern, group_only, gate in _detect_secrets_patterns():
        if gate is not None and not gate(text, lowered):
            continue
        if not long_run and not group_only:
            continue
        if group_only:
            text = pattern.sub(_sub_group(pattern, pattern.groups, MASK_TOKEN), text)
            continue
        text = _replace_spans(text, ((m.start(), _tail_end(text, m.end())) for m in pattern.finditer(text)))
    return text


def _replace_spans(text: str, spans: Iterable[tuple[int, int]], marker: str = MASK_TOKEN) -> str:
    """Replace non-overlapping (start, end) spans, in order, by the marker (newlines kept)."""
    out: list[str] = []
    pos = 0
    for start, end in spans:
        if start < pos or end <= start:
            continue
        out.append(text[pos:start])
        out.append(_keep_lines(marker, text[start:end]))
        pos = end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def _provider_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for literal, pattern in _PROVIDER_KEYS:
        if literal not in text:
            continue
        for m in pattern.finditer(text):
            before = text[m.start() - 1] if m.start() else " "
            if not (before.isalnum() or before in "_-"):
                spans.append((m.start(), m.end()))
    return sorted(spans)


def _auth_scheme(m: re.Match[str]) -> str:
    scheme, value = m.group(1), m.group(3)
    start = m.start()
    if start and (m.string[start - 1].isalnum() or m.string[start - 1] == "_"):
        return m.group(0)
    # "Token" / "Basic" are English words too: their credential must look like one (a digit in it).
    if scheme.lower() in ("token", "basic") and not any(c.isdigit() for c in value):
        return m.group(0)
    if value.startswith("[masked") or value.lower() in ("bearer", "basic", "digest"):
        return m.group(0)
    return scheme + m.group(2) + MASK_TOKEN


def _url_param(m: re.Match[str]) -> str:
    name = m.group(2)
    if m.group(3).startswith("[masked"):
        return m.group(0)
    if name.lower() in SIGNED_URL_PARAMS or is_secret_key(name):
        return m.group(1) + name + "=" + MASK_TOKEN
    return m.group(0)


def _assignment_spans(text: str, lowered: str) -> Iterator[tuple[int, int]]:
    """Spans of values assigned to secret-looking names (`password = "two words"`, `--token x`)."""
    last_word = -1
    for hit in _STEMS.finditer(lowered):
        start = hit.start()
        if start < last_word:
            continue  # another stem inside a word already judged
        while start > 0 and lowered[start - 1] in _WORD_CHARS:
            start -= 1
        end = hit.end()
        while end < len(lowered) and lowered[end] in _WORD_CHARS:
            end += 1
        last_word = end
        word = text[start:end]
        flag = word.startswith("-")
        name = word.lstrip("-").rstrip(".-")
        if not name or not is_secret_key(name):
            continue
        end = start + len(word.rstrip(".-")) if not flag else end
        m = _AFTER_NAME.match(text, end)
        if m is None:
            continue
        sep, val = m.group("sep"), m.group("val")
        if not any(c in sep for c in ":=") and not flag:
            continue  # `password hunter2` in prose is not an assignment; `--password hunter2` is
        bare = val.strip("\"'\\")
        if bare.startswith("[masked") or val.lower() in ("bearer", "basic", "digest") or not bare:
            continue
        v_start, v_end = m.start("val"), m.end("val")
        if val.startswith('\\"'):
            v_start += 2
            if len(val) >= 4 and val.endswith('\\"'):
                v_end -= 2
        elif val[:1] in "\"'":
            v_start += 1
            if len(val) >= 2 and val[-1] == val[0]:
                v_end -= 1
        if v_end > v_start:
            yield v_start, v_end


def _flag_user_spans(text: str) -> Iterator[tuple[int, int]]:
    """`-u user:password` / `--user user:password` (curl)."""
    for m in re.finditer(r"(?<!\S)(?:-u|--user)[ \t=]+[^\s:\"']+:([^\s\"']+)", text):
        if not m.group(1).startswith("[masked"):
            yield m.start(1), m.end(1)


def _email_spans(text: str) -> Iterator[tuple[int, int]]:
    """E-mail addresses, searched only around each "@" (no regex pass over the whole text)."""
    at = text.find("@")
    done = 0
    while at != -1:
        start = at
        while start > done and start > at - 64 and text[start - 1] in _EMAIL_LOCAL:
            start -= 1
        m = _EMAIL.match(text, start, min(len(text), at + 256))
        while m is None and start < at:
            start += 1
            m = _EMAIL.match(text, start, min(len(text), at + 256))
        if m is not None and m.end() > at:
            yield m.start(), m.end()
            done = m.end()
        at = text.find("@", max(at + 1, done))


def _phone_spans(text: str, lowered: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    patterns = [_PHONE_PLAIN]
    if "+" in text:
        patterns.append(_PHONE_PLUS)
    if "(" in text:
        patterns.append(_PHONE_PAREN)
    for pattern in patterns:
        for m in pattern.finditer(text):
            start, end = m.start(), m.end()
            if start and text[start - 1] in _PHONE_BEFORE:
                continue
            if end < len(text) and (
                text[end] in _PHONE_AFTER
                or (text[end] == "." and end + 1 < len(text) and text[end + 1].isdigit())
            ):
                continue
            if 7 <= sum(c.isdigit() for c in m.group(0)) <= 15:
                spans.append((start, end))
    for hit in _PHONE_WORDS.finditer(lowered):
        if hit.start() and lowered[hit.start() - 1].isalpha():
            continue
        after = _PHONE_AFTER_WORD.match(text, hit.end())
        if after is not None and 6 <= sum(c.isdigit() for c in after.group("num")) <= 15:
            spans.append((after.start("num"), after.end("num")))
    return sorted(spans)


class Masked(str):
    """Text that takes no (more) masking: already masked by this policy (masking twice could mangle its
    markers), or one of Agent Desk's own records shown as is on purpose (the actor identities of its
    audit log: who acted is the point of an audit trail). `mask_text` returns it unchanged."""

    __slots__ = ()


def mask_text(text: str) -> str:
    """Mask secrets, credentials, e-mail addresses and phone numbers in free text (see module doc)."""
    if not text or not isinstance(text, str) or len(text) < 6 or isinstance(text, Masked):
        return text
    if type(text) is str and len(text) <= _CACHED_MAX_LEN:
        return _mask_text_cached(text)  # a page masks the same cells on every rerun: remember them
    return _mask_text(text)


_CACHED_MAX_LEN = 4096


@lru_cache(maxsize=8192)
def _mask_text_cached(text: str) -> str:
    return _mask_text(text)


def _mask_text(text: str) -> str:
    if len(text) < 15 and not _SUSPICIOUS.search(text):
        return text  # every detector needs 15+ characters, or a digit, "@", ":" or "="
    if "PRIVATE KEY" in text or "PuTTY-User-Key" in text:
        text = _private_key_block().sub(lambda m: _keep_lines(MASK_TOKEN, m.group(0)), text)
    lowered = text.lower()
    original = text
    long_run = _LONG_RUN.search(text) is not None
    text = _mask_detect_secrets(text, lowered, long_run)
    if long_run:
        text = _replace_spans(text, _provider_spans(text))
    if any(w in lowered for w in ("bearer", "basic", "token", "digest")):
        text = _AUTH_SCHEME.sub(_auth_scheme, text)
    if "=" in text and ("?" in text or "&" in text or ";" in text):
        text = _URL_PARAM.sub(_url_param, text)
    if text != original:
        lowered = text.lower()
    text = _replace_spans(text, _assignment_spans(text, lowered))
    if "-u" in text or "--user" in text:
        text = _replace_spans(text, _flag_user_spans(text))
    if "@" in text:
        text = _replace_spans(text, _email_spans(text), MASK_EMAIL)
    if _DIGIT.search(text):
        lowered = text.lower()
        text = _replace_spans(text, _phone_spans(text, lowered), MASK_PHONE)
    return text
