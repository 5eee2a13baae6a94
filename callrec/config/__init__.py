"""Configuration: a TOML file validated into frozen dataclasses (see ``config/callrec.example.toml``)."""

from callrec.config._asr import AsrConfig
from callrec.config._capture import CaptureConfig
from callrec.config._config import CREDENTIAL_NAME, Config
from callrec.config._health import CdrConfig, HealthConfig
from callrec.config._lines import DEFAULT_LINE, LINE_SOURCES, LineConfig, SipLineConfig
from callrec.config._load import DEFAULT_CONFIG, config_path, load_config
from callrec.config._retention import CasesConfig, RetentionConfig
from callrec.config._ui import UI_LANGUAGES, UiConfig

__all__ = [
    "AsrConfig",
    "CREDENTIAL_NAME",
    "CaptureConfig",
    "CasesConfig",
    "CdrConfig",
    "Config",
    "DEFAULT_CONFIG",
    "DEFAULT_LINE",
    "HealthConfig",
    "LINE_SOURCES",
    "LineConfig",
    "RetentionConfig",
    "SipLineConfig",
    "UI_LANGUAGES",
    "UiConfig",
    "config_path",
    "load_config",
]
