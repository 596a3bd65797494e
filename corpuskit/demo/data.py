"""A small multi-source sample generated in code, so ``corpuskit demo`` runs offline with no data files.

Three kinds of source in their real on-disk formats, each with its own style so that mixtures differ
measurably in bits per byte: Project Gutenberg books (plain text with the PG header/footer), a Stack
Exchange ``Posts.xml`` (questions + answers, HTML bodies) and a folder of HTML news pages with navigation
boilerplate, a few near-duplicate pages (for dedup) and a few junk pages (for the quality filters).
Everything is drawn from a seeded generator: the same seed gives the same files.
"""

from __future__ import annotations

import html
import textwrap
from pathlib import Path

import numpy as np

from corpuskit.demo.vocabulary import (
    ADJ,
    FIXES,
    ISSUES,
    NAMES,
    NOUNS,
    PLACES,
    SAID,
    TECH,
    TOPICS,
    VERBS,
    WHO,
)
from corpuskit.demo.vocabulary import pick as _p

# ---------------------------------------------------------------------------------------------- books


def _book_sentence(rng: np.random.Generator) -> str:
    a, b = _p(rng, NAMES), _p(rng, NAMES)
    forms = [
        f"{a} {_p(rng, VERBS)} that the {_p(rng, ADJ)} {_p(rng, NOUNS)} had not been forgotten.",
        f"It was an {_p(rng, ADJ)} {_p(rng, NOUNS)}, and {a} could not but feel it at {_p(rng, PLACES)}.",
        f'"I assure you," said {a}, "my {_p(rng, NOUNS)} is not so {_p(rng, ADJ)} as you suppose."',
        f"{a} and {b} walked towards {_p(rng, PLACES)} in {_p(rng, ADJ)} silence.",
        f"Nothing could be more {_p(rng, ADJ)} than the {_p(rng, NOUNS)} of {b}.",
        f"{b} {_p(rng, VERBS)}, with a {_p(rng, ADJ)} {_p(rng, NOUNS)}, that the {_p(rng, NOUNS)} "
        f"would arrive before the {_p(rng, NOUNS)}.",
    ]
    return forms[int(rng.integers(len(forms)))]


def make_book(rng: np.random.Generator, title: str, author: str, chapters: int) -> str:
    body = []
    for c in range(1, chapters + 1):
        body.append(f"CHAPTER {c}.")
        for _ in range(int(rng.integers(6, 12))):
            para = " ".join(_book_sentence(rng) for _ in range(int(rng.integers(3, 8))))
            body.append(textwrap.fill(para, 70))
    head = (
        f"The Project Gutenberg eBook of {title}\n\nThis ebook is for the use of anyone anywhere in the "
        "United "
        f"States and\nmost other parts of the world at no cost.\n\nTitle: {title}\n\nAuthor: {author}\n\n"
        f"Language: English\n\n*** START OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***\n\n\n"
    )
    foot = (
        f"\n\n*** END OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***\n\n"
        "Updated editions will replace the previous one--the old editions will\nbe renamed.\n"
    )
    return head + "\n\n".join(body) + foot


# ---------------------------------------------------------------------------------------------- forums


def make_posts_xml(rng: np.random.Generator, threads: int) -> str:
    rows = ['<?xml version="1.0" encoding="utf-8"?>', "<posts>"]
    pid = 1
    for t in range(threads):
        dev, issue = _p(rng, TECH), _p(rng, ISSUES)
        day = f"2016-{1 + t % 12:02d}-{1 + t % 28:02d}T10:{t % 60:02d}:00.000"
        q_body = (
            f"<p>My {dev} {issue} since last week. I already tried to {_p(rng, FIXES)} "
            "but nothing changed.</p>"
            f"<p>Is this normal, or should I {_p(rng, FIXES)}? Any idea what to check first?</p>"
        )
        q = pid
        n_ans = int(rng.integers(1, 4))
        rows.append(
            f'  <row Id="{q}" PostTypeId="1" CreationDate="{day}" Score="{int(rng.integers(0, 30))}" '
            f'ViewCount="{int(rng.integers(20, 900))}" Body="{html.escape(q_body)}" '
            f'OwnerUserId="{10 + t % 50}" '
            f'LastActivityDate="{day}" Title="{html.escape(f"Why does my {dev} {issue}?")}" '
            f'Tags="&lt;{dev.replace(" ", "-")}&gt;" AnswerCount="{n_ans}" CommentCount="0" />'
        )
        pid += 1
        for _ in range(n_ans):
            a_body = (
                f"<p>This usually happens when the {_p(rng, TECH)} is dirty. {_p(rng, FIXES).capitalize()}, "
                f"then {_p(rng, FIXES)}.</p><p>If it still {_p(rng, ISSUES)}, {_p(rng, FIXES)}; "
                f"in my experience that fixes it 9 times out of 10.</p>"
            )
            rows.append(
                f'  <row Id="{pid}" PostTypeId="2" ParentId="{q}" CreationDate="{day}" '
                f'Score="{int(rng.integers(0, 40))}" Body="{html.escape(a_body)}" '
                f'OwnerUserId="{60 + pid % 40}" '
                f'LastActivityDate="{day}" CommentCount="0" />'
            )
            pid += 1
    rows.append("</posts>")
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------------------------------------- web


def _news_paragraph(rng: np.random.Generator, topic: str) -> str:
    n = int(rng.integers(2, 90))
    sents = [
        f"The {topic} will cost about {n} million euros, {_p(rng, WHO)} {_p(rng, SAID)}.",
        f"According to {_p(rng, WHO)}, {n} percent of people support the {topic}.",
        f"Work on the {topic} is expected to start in {2025 + n % 4}, {_p(rng, WHO)} {_p(rng, SAID)}.",
        f"Critics say the {topic} has been delayed {n % 7 + 1} times since {2010 + n % 12}.",
        f'"We need a decision on the {topic} this month," one of the {_p(rng, WHO)} said.',
    ]
    return " ".join(sents[int(i)] for i in rng.permutation(len(sents))[: int(rng.integers(3, 6))])


def make_page(rng: np.random.Generator, i: int, topic: str | None = None, date: str | None = None) -> str:
    topic = topic or _p(rng, TOPICS)
    date = date or f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"
    paras = "".join(f"<p>{_news_paragraph(rng, topic)}</p>\n" for _ in range(int(rng.integers(4, 9))))
    return (
        f"<!DOCTYPE html><html><head><title>{topic.title()} update | Daily Courier</title></head><body>\n"
        '<nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/sport">Sport</a> | '
        '<a href="/weather">Weather</a></nav>\n'
        f"<article><h1>Latest on the {topic}</h1><p class='date'>Published {date}</p>\n{paras}</article>\n"
        '<aside>Most read: <a href="/1">Ten tips</a> <a href="/2">Weekend guide</a></aside>\n'
        "<footer>© 2024 Daily Courier. All rights reserved. Cookie settings. Privacy policy.</footer>\n"
        "</body></html>\n"
    )


def write_demo_inputs(root: Path, *, seed: int = 0, scale: float = 1.0) -> dict[str, Path]:
    """Write the three sources under ``root``; returns {source: input path} for the source configs."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    books = root / "books"
    books.mkdir(parents=True, exist_ok=True)
    for k, (title, author) in enumerate(
        [
            ("A Season at Longbourn", "Jane Ashford"),
            ("The Abbey Letters", "Mary Crane"),
            ("Harriet's Promise", "Anne Whitby"),
            ("An Evening at Bath", "Jane Ashford"),
            ("The Parsonage", "Mary Crane"),
            ("Edmund", "Anne Whitby"),
            ("Kellynch", "Jane Ashford"),
            ("The Moor", "Mary Crane"),
        ]
    ):
        (books / f"book{k}.txt").write_text(
            make_book(rng, title, author, max(2, int(20 * scale))), encoding="utf-8"
        )
    forums = root / "forums"
    forums.mkdir(parents=True, exist_ok=True)
    (forums / "coffee.example.com_Posts.xml").write_text(
        make_posts_xml(rng, max(10, int(500 * scale))), encoding="utf-8"
    )
    web = root / "web"
    web.mkdir(parents=True, exist_ok=True)
    n_pages = max(10, int(300 * scale))
    for i in range(n_pages):
        (web / f"page{i:04d}.html").write_text(make_page(rng, i), encoding="utf-8")
    for i in range(0, n_pages, 10):  # near duplicates: the same article re-published with a new date
        src = (web / f"page{i:04d}.html").read_text(encoding="utf-8")
        (web / f"page{i:04d}-copy.html").write_text(src.replace("Published", "Updated"), encoding="utf-8")
    for i in range(max(2, n_pages // 30)):  # junk the quality filters should catch
        junk = "<html><body><p>" + " ".join(["click here"] * 40) + f" {i}</p></body></html>"
        (web / f"junk{i:03d}.html").write_text(junk, encoding="utf-8")
    return {"books": books, "forums": forums, "web": web}
