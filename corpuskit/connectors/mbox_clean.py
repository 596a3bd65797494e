"""Cleaning a message body: quoted replies, signatures and list footers removed, e-mail addresses and
phone numbers redacted, each as the options say."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from corpuskit.connectors.mbox import MboxOptions

EMAIL_RE = re.compile(
    r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
    # pipermail's obfuscated "name at host.org", only inside <>, () or [] to spare "look at example.com"
    r"|(?<=[<(\[])[\w.+-]+ at [A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?=[>)\]])"
)
PHONE_RE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,4}){1,4}"  # +49 30 1234 5678
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}"  # (555) 123-4567
    r"|\d{3}[.-]\d{3}[.-]\d{4}"  # 555-123-4567
    r")(?![\w])"
)
_QUOTE = re.compile(r"^\s*[A-Za-z]{0,4}>(?:\s|>|$)")  # "> x", ">> x" and supercite "LK> x"
_ATTRIBUTION = re.compile(
    r"(wrote|writes|said|schrieb|a écrit|escribió|scrisse|skrev|kirjoitti|napisał|написал)\s*:?\s*$", re.I
)
_ORIGINAL = re.compile(r"^-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}", re.I)
_FOOTER = re.compile(r"^_{20,}\s*$")
_SCRUBBED = re.compile(r"^-{5,} next part -{5,}$")  # pipermail's note on removed attachments
_ATTRIBUTION_HINT = re.compile(r"\d{1,2}:\d{2}|\b(?:19|20)\d{2}\b|@|\S+ at \S+\.\w+")


def clean_body(text: str, opts: MboxOptions) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        if opts.strip_signatures:
            if line in ("-- ", "--"):
                break
            if _SCRUBBED.match(line.strip()):
                break
            if _FOOTER.match(line) and any(
                "mailing list" in ln.lower() or "listinfo" in ln for ln in lines[i + 1 : i + 4]
            ):
                break
        if opts.strip_quotes:
            if _ORIGINAL.match(line.strip()):
                break
            if _QUOTE.match(line):
                # drop the "On <date>, <someone> wrote:" line (possibly wrapped over two) before the quote
                while out and not out[-1].strip():
                    out.pop()
                if out and _is_attribution(out[-1]):
                    out.pop()
                elif len(out) >= 2 and _is_attribution(out[-2] + " " + out[-1]):
                    del out[-2:]
                out.append("")
                continue
        out.append(line.rstrip())
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")
    if opts.redact_emails:
        body = EMAIL_RE.sub(opts.email_placeholder, body)
    if opts.redact_phones:
        body = PHONE_RE.sub(opts.phone_placeholder, body)
    return body


def _is_attribution(line: str) -> bool:
    """ "On Tue, Nov 17, 2009 at 2:00 PM, Ann <a@b.org> wrote:" and the many localised/odd variants."""
    s = line.strip()
    if _ATTRIBUTION.search(s):
        return True
    return s.endswith(":") and len(s) < 300 and bool(_ATTRIBUTION_HINT.search(s))
