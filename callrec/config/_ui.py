"""The ``[ui]`` section: the local web page of ``callrec ui``."""

from __future__ import annotations

from dataclasses import dataclass, field

from callrec.config._fields import check

__all__ = ["UiConfig", "UI_LANGUAGES"]

#: ``auto`` follows the browser (Accept-Language), Japanese when it names neither language.
UI_LANGUAGES = ("auto", "ja", "en")


@dataclass(frozen=True)
class UiConfig:
    language: str = field(default="auto", metadata=check(lambda v: v in UI_LANGUAGES,
                                                         "must be one of auto (the browser's), ja, en"))
