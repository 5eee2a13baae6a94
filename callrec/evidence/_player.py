"""``index.html``: an offline player for a case package.

Everything is in the one file except the audio, which it plays from beside it. A
Content-Security-Policy allows only that audio, the inline script and the inline style (by hash):
no request can leave the machine. Each call shows its audio and its transcript as time-stamped
lines per speaker; clicking a line seeks the audio there, the line being played is highlighted,
and words the recogniser was unsure of are marked.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Sequence

from callrec.asr import Word, configured_lines, join_words, transcript_language
from callrec.config import Config
from callrec.timefmt import offset_clock
from callrec.vault.calls import Transcript

__all__ = ["PLAYER_SCRIPT", "PLAYER_STYLE", "player_lines", "render_lines", "render_player"]

PLAYER_STYLE = """
body{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 1em;color:#222}
dt{font-weight:bold;float:left;clear:left;width:10em}dd{margin-left:11em}
#verification{border:1px solid #686;background:#f4fff4;padding:.5em 1em}
code{background:#eee;padding:0 .3em;word-break:break-all}
ol.lines{list-style:none;padding:0}ol.lines li{padding:.2em .4em;cursor:pointer;border-left:3px solid transparent}
ol.lines li:hover{background:#f3f3f3}ol.lines li.current{background:#fff3b0;border-left-color:#c90}
.t{font-family:monospace;color:#555;margin-right:.6em}.who{font-weight:bold;margin-right:.6em}
.uncertain{text-decoration:underline dotted #c00;color:#a00}audio{width:100%}
"""

#: Highlights the line being played and seeks on a click, in every ``section.call`` holding an
#: ``audio`` element and the ``li[data-start]`` lines of :func:`render_lines` (also served by ``callrec ui``).
PLAYER_SCRIPT = """
document.querySelectorAll('section.call').forEach(function (sec) {
  var audio = sec.querySelector('audio');
  var lines = Array.prototype.slice.call(sec.querySelectorAll('li[data-start]'));
  function mark() {
    var t = audio.currentTime, cur = null;
    lines.forEach(function (li) {
      if (parseFloat(li.dataset.start) <= t + 0.05 && t <= parseFloat(li.dataset.end) + 1) { cur = li; }
    });
    lines.forEach(function (li) { li.classList.toggle('current', li === cur); });
  }
  lines.forEach(function (li) {
    li.addEventListener('click', function () {
      audio.currentTime = parseFloat(li.dataset.start);
      var played = audio.play();
      if (played && played.catch) { played.catch(function () {}); }
      mark();
    });
  });
  audio.addEventListener('timeupdate', mark);
  audio.addEventListener('seeked', mark);
});
"""


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


#: No default source; the audio beside the file, and only this script and style (by hash).
CSP = (f"default-src 'none'; media-src 'self'; script-src {_csp_hash(PLAYER_SCRIPT)}; style-src {_csp_hash(PLAYER_STYLE)};"
       " img-src 'none'; connect-src 'none'; font-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'")


def player_lines(transcripts: Sequence[Transcript], config: Config) -> list[dict]:
    """Lines ``{"start", "end", "channel", "speaker", "words": [{"text", "conf", "uncertain"}]}`` of all
    channels by time: the same lines as the text and WebVTT exports (:func:`callrec.asr.transcript_lines`)."""
    language = transcript_language(transcripts, config)
    lines = configured_lines(transcripts, config)
    return [{"start": line.start, "end": line.end, "channel": line.channel, "speaker": line.speaker or "",
             "words": _pieces(line.words, language)} for line in lines]


def _pieces(words: Sequence[Word], language: str) -> list[dict]:
    """Each word as displayed (with the spacing its language is written with) and its confidence."""
    out, shown = [], ""
    for i, word in enumerate(words):
        text = join_words([w.text for w in words[:i + 1]], language)
        piece, shown = text[len(shown):], text
        if piece:
            out.append({"text": piece, "conf": 1.0 if word.conf is None else word.conf, "uncertain": word.uncertain})
    return out


def _line(line: dict) -> str:
    words = "".join(
        f'<span class="uncertain" title="uncertain: confidence {w["conf"]:.2f}">{html.escape(w["text"])}</span>'
        if w["uncertain"] else html.escape(w["text"]) for w in line["words"])
    who = f'<span class="who">{html.escape(line["speaker"])}</span>' if line["speaker"] else ""
    return (f'<li data-start="{line["start"]:.3f}" data-end="{line["end"]:.3f}"><span class="t">{offset_clock(line["start"])}</span>'
            f'{who}<span class="text">{words}</span></li>')


def render_lines(lines: Sequence[dict]) -> str:
    """The ``<li>`` items of a call's lines (:func:`player_lines`), uncertain words marked."""
    return "".join(_line(line) for line in lines)


def _call(call: dict) -> str:
    lines = render_lines(call["lines"]) or "<li>(no transcript)</li>"
    duration = call["ended_ts"] - call["started_ts"]
    return (f'<section class="call" id="call-{call["id"]}"><h2>Call {call["id"]}</h2>'
            f'<p>{html.escape(call["started_at"])} – {html.escape(call["ended_at"])} ({duration:.1f} s),'
            f' {call["channels"]} channel(s), PCM SHA-256 <code>{call["pcm_sha256"]}</code></p>'
            f'<audio controls preload="metadata" src="{html.escape(call["audio"])}"></audio>'
            f'<ol class="lines">{lines}</ol></section>')


def render_player(case: dict, calls: list[dict], status: list[str], command: str, exported_at: str,
                  uncertain_below: float) -> bytes:
    """The whole page; ``calls`` carry their ``lines`` (:func:`player_lines`) and audio file name."""
    facts = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in (
        ("Reason", case["reason"]), ("Window", f"{case['window']['from']} – {case['window']['to']}"),
        ("Opened by", f"{case['opened_by']} at {case['opened_at']}"),
        ("Decided by", f"{case['approved_by']} at {case['decided_at']}"), ("Exported", exported_at)))
    checks = "".join(f"<li>{html.escape(s)}</li>" for s in status)
    page = f"""<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="referrer" content="no-referrer">
<title>Case {case['id']} – callrec evidence package</title>
<style>{PLAYER_STYLE}</style></head>
<body><h1>Case {case['id']}</h1><dl>{facts}</dl>
<section id="verification"><h2>Verification as of export</h2><ul>{checks}</ul>
<p>Re-check this folder (no network, no vault, no key needed): <code>{html.escape(command)}</code></p>
<p>Words <span class="uncertain">marked like this</span> were uncertain to the recogniser
(confidence below {uncertain_below}). Click a line to play from there.</p></section>
{''.join(_call(c) for c in calls)}
<script>{PLAYER_SCRIPT}</script></body></html>
"""
    return page.encode("utf-8")
