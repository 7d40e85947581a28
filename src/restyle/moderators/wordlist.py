"""Text moderation by term lists, after normalisation: NFKC (full-width letters), case folding,
zero-width and format characters dropped, and runs of single letters joined (``n u d e``, ``n.u.d.e``).
Latin-script terms match whole words (so "snakedance" does not match "naked"); other scripts, which
are written without spaces, match as substrings of the text with spaces and punctuation removed.

Terms come from ``terms.txt`` beside this file (``category<TAB>term``) plus an optional extra file.
Images are not judged by this moderator.
"""

from __future__ import annotations

import re
import unicodedata
from importlib import resources
from pathlib import Path

from restyle import errors
from restyle.config import Settings
from restyle.imaging.arrays import U8
from restyle.moderators import BaseModerator, Stage

_WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """Letters and digits only, folded: the form used for substring matching of CJK terms."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in ("L", "N"))


def words(text: str) -> list[str]:
    """Folded words, with runs of single-letter words joined (``c h i l d`` → ``child``)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    out: list[str] = []
    run = ""
    for tok in _WORD.findall(folded):
        if len(tok) == 1:
            run += tok
            continue
        if run:
            out.append(run)
            run = ""
        out.append(tok)
    if run:
        out.append(run)
    return out


def _is_latin(term: str) -> bool:
    return all(ch.isascii() for ch in term)


def load_terms(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        category, _, term = line.partition("\t") if "\t" in line else ("custom", "", line)
        norm = " ".join(words(term)) if _is_latin(term) else normalise(term)
        if norm:
            out.append((category.strip(), norm))
    return out


class Moderator(BaseModerator):
    name = "wordlist"

    @classmethod
    def from_settings(cls, settings: Settings) -> Moderator:
        return cls(settings.blocked_terms_file)

    def __init__(self, extra_file: Path | None = None) -> None:
        text = resources.files("restyle.moderators").joinpath("terms.txt").read_text("utf-8")
        self.terms = load_terms(text)
        if extra_file is not None:
            self.terms += load_terms(Path(extra_file).read_text("utf-8"))

    def check_text(self, fields: dict[str, str]) -> None:
        for name, text in fields.items():
            compact = normalise(text)
            if not compact:
                continue
            spaced = f" {' '.join(words(text))} "
            for category, term in self.terms:
                hit = f" {term} " in spaced or f" {term.replace(' ', '')} " in spaced
                if hit if _is_latin(term) else term in compact:
                    msg = f"{name} did not pass text moderation (stage: input, category: {category})."
                    raise errors.TextIllegalDetected(msg)

    def check_image(self, image: U8, stage: Stage) -> None:
        return None
