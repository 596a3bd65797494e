"""What the Reddit connector keeps of an object: its options, the drop rules (removed text, bots, low
scores) and the text, metadata and URL taken from each submission or comment."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from corpuskit.connectors.base import Options
from corpuskit.connectors.reddit_dump import fullname

REMOVED = {"[deleted]", "[removed]", "[removed by reddit]", "[ Removed by Reddit ]", "[deleted by user]"}
DEFAULT_BOTS = [
    "AutoModerator",
    "RemindMeBot",
    "WikiTextBot",
    "TweetPoster",
    "image_linker_bot",
    "sneakpeekbot",
]


class RedditOptions(Options):
    mode: Literal["auto", "threads", "comments"] = Field("auto", description="see the module docstring")
    min_score: int | None = Field(None, description="submissions/comments with a lower score are dropped")
    bot_authors: list[str] = Field(
        default_factory=lambda: list(DEFAULT_BOTS), description="exact author names"
    )
    bot_author_pattern: str | None = Field(
        r"(?:^|[_-])[Bb]ot$|Bot$", description="regex on the author name marking bots; null to disable"
    )
    pair_siblings: bool = Field(
        True, description="for a submissions file, also read the comments file beside it"
    )
    temp_dir: Path | None = Field(None, description="where the scratch store goes (default: system temp)")

    @field_validator("bot_author_pattern")
    @classmethod
    def _valid_regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"not a valid regular expression: {e}") from None
        return v


class RedditFilter:
    def __init__(self, opts: RedditOptions):
        self.opts = opts
        self.bots = set(opts.bot_authors)
        self.bot_re = re.compile(opts.bot_author_pattern) if opts.bot_author_pattern else None

    def drop_reason(self, obj: dict[str, Any], text: str) -> str | None:
        author = obj.get("author") or ""
        if text.strip() in REMOVED:
            return "deleted_or_removed"
        if author in self.bots or (
            self.bot_re is not None and author not in REMOVED and self.bot_re.search(author)
        ):
            return "bot_author"
        score = obj.get("score")
        if self.opts.min_score is not None and isinstance(score, int | float) and score < self.opts.min_score:
            return "below_min_score"
        return None


def text_of(s: Any) -> str:
    return html.unescape(s).strip() if isinstance(s, str) else ""


def submission_meta(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "subreddit": obj.get("subreddit"),
        "submission_id": fullname(obj, "t3_"),
        "score": obj.get("score"),
        "num_comments": obj.get("num_comments"),
        "created_utc": obj.get("created_utc"),
        "permalink": obj.get("permalink"),
        "link_url": obj.get("url"),
        "over_18": obj.get("over_18"),
    }


def permalink_url(obj: dict[str, Any]) -> str | None:
    p = obj.get("permalink")
    return f"https://www.reddit.com{p}" if isinstance(p, str) and p.startswith("/") else None


def comment_url(obj: dict[str, Any], cid: str) -> str | None:
    sub, link = obj.get("subreddit"), obj.get("link_id")
    if isinstance(sub, str) and isinstance(link, str) and link.startswith("t3_"):
        return f"https://www.reddit.com/r/{sub}/comments/{link[3:]}/_/{cid.removeprefix('t1_')}/"
    return None
