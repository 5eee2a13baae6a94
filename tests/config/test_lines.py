"""``[[lines]]``: validated into lines with one-line errors naming the key and the file (never the
number); a config without it is the one sound-card line ``main`` of ``[capture]``."""

from __future__ import annotations

import pytest

from callrec.config import DEFAULT_LINE, load_config
from callrec.errors import ConfigError
from tests.conftest import run_cli, write_config

SIP = 'name = "hotline"\nnumber = "0312345678"\nsource = "sip"\ninterface = "span0"\n'


def test_without_lines_the_config_is_the_one_sound_line_of_capture(tmp_path):
    config = load_config(write_config(tmp_path, "[capture]\ndevice = \"hw:1\"\nchannels = 2\n"))
    (line,) = config.recorded_lines
    assert (line.name, line.source, line.capture) == (DEFAULT_LINE, "sound", config.capture)
    assert config.lines == ()


def test_lines_take_capture_keys_over_capture_and_the_taps_keys(tmp_path):
    config = load_config(write_config(tmp_path, f"""
[capture]
test_dtmf = "*1#"
channels = 2
[[lines]]
{SIP}directions = ["in"]
rtp_timeout_s = 20
queue_s = 5
[[lines]]
name = "main"
number = "+81312345679"
source = "sound"
device = "hw:2"
"""))
    hot, main = config.recorded_lines
    assert (hot.sip.interface, hot.sip.directions, hot.sip.rtp_timeout_s) == ("span0", ("in",), 20.0)
    assert (hot.capture.test_dtmf, hot.capture.queue_s, main.capture.queue_s) == ("*1#", 5.0, 30.0)
    assert (main.sip, main.capture.device, main.capture.channels) == (None, "hw:2", 2)
    assert config.line("main") is main and config.line("nope") is None


@pytest.mark.parametrize(("table", "key", "words"), [
    ('number = "0312345678"\nsource = "sip"\ninterface = "e0"\n', "lines[0].name", "required"),
    (SIP.replace('"hotline"', '"Hot Line"'), "lines[0].name", "a-z 0-9"),
    (SIP.replace('"0312345678"', '"03-1234-5678x"'), "lines[0].number", "digits"),
    (SIP.replace('"sip"', '"isdn"'), "lines[0].source", "sound, sip"),
    (SIP.replace('interface = "span0"\n', ''), "lines[0].interface", "mirrored network interface"),
    (SIP + "colour = 1\n", "lines[0].colour", "unknown key"),
    (SIP + "rtp_timeout_s = 0\n", "lines[0].rtp_timeout_s", "between"),
    (SIP + 'directions = ["sideways"]\n', "lines[0]", "directions"),
    (SIP + 'rtp_timeout_s = "long"\n', "lines[0].rtp_timeout_s", "must be a number"),
    (SIP + "channels = 3\n", "lines[0].channels", "must be 1 or 2"),
    ('name = "main"\nnumber = "0312345678"\nsource = "sound"\ninterface = "e0"\n', "lines[0].interface",
     "source = \"sip\" lines only"),
])
def test_a_bad_line_is_one_line_naming_the_key_and_the_file_never_the_number(tmp_path, table, key, words):
    path = write_config(tmp_path, f"[[lines]]\n{table}")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and repr(key) in message and words in message
    assert "0312345678" not in message and "1234" not in message
    done = run_cli(path, "status")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "0312345678" not in done.stderr


def test_two_lines_of_one_name_and_lines_that_are_not_tables_are_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"'lines\[1\].name': names another line"):
        load_config(write_config(tmp_path / "a", f"[[lines]]\n{SIP}[[lines]]\n{SIP.replace('span0', 'span1')}"))
    with pytest.raises(ConfigError, match="'lines' must be an array of tables"):
        load_config(write_config(tmp_path / "b", "lines = 3\n"))
