"""Moderators: text (Prompt, NegativePrompt) and images (input and output).

Input text or image failures → ``OperationDenied.TextIllegalDetected`` / ``ImageIllegalDetected``;
an output image failure → ``FailedOperation.GenerateImageFailed``. Messages name stage and category.
"""

from __future__ import annotations

from typing import Literal

from restyle.imaging.arrays import U8
from restyle.plugins import Plugin

Stage = Literal["input", "output"]


#: short names an operator may set in the settings (or a dotted path ``module:Class``)
REGISTRY = {
    "none": "restyle.moderators.none:Moderator",
    "wordlist": "restyle.moderators.wordlist:Moderator",
    "nsfw": "restyle.moderators.nsfw:Moderator",
    "wordlist+nsfw": "restyle.moderators.nsfw:WordlistAndNsfw",
}


class BaseModerator(Plugin):
    def check_text(self, fields: dict[str, str]) -> None:
        """Raise TextIllegalDetected naming the field and category when a text is not allowed."""
        raise NotImplementedError

    def check_image(self, image: U8, stage: Stage) -> None:
        """Raise ImageIllegalDetected (input) or GenerateImageFailed (output)."""
        raise NotImplementedError
