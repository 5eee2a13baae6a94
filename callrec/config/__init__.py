"""Configuration: a TOML file validated into frozen dataclasses (see ``config/callrec.example.toml``)."""

from callrec.config._asr import AsrConfig
from callrec.config._capture import CaptureConfig
from callrec.config._config import CREDENTIAL_NAME, Config
from callrec.config._health import HealthConfig
from callrec.config._load import DEFAULT_CONFIG, config_path, load_config
from callrec.config._retention import CasesConfig, RetentionConfig
from callrec.config._ui import UI_LANGUAGES, UiConfig

__all__ = [
    "AsrConfig",
    "CaptureConfig",
    "CasesConfig",
    "Config",
    "CREDENTIAL_NAME",
    "DEFAULT_CONFIG",
    "HealthConfig",
    "RetentionConfig",
    "UI_LANGUAGES",
    "UiConfig",
    "config_path",
    "load_config",
]
