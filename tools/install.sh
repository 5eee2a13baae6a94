#!/usr/bin/env bash
# Install callrec on a fresh Debian machine (as root): system libraries, and a virtual environment
# at $CALLREC_VENV (default /opt/callrec-venv) built on Debian's python3, readable by every account
# so that people without the data key can run the CLI (it forwards to the daemon's socket).
#   tools/install.sh          the recorder
#   tools/install.sh --test   the recorder plus what the tests need (pytest, the Korean Vosk model,
#                             Chromium for the HTML report, player and ui tests, SIPp/tcpreplay for
#                             the SIP tap)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${CALLREC_VENV:-/opt/callrec-venv}
packages=(python3 python3-venv python3-dev libportaudio2 libsndfile1 alsa-utils)
extras=""
if [[ "${1:-}" == "--test" ]]; then
    # A Japanese font for the ui's screenshots; SIPp, tcpdump, tcpreplay and iproute2 (netns, veth,
    # tc mirred) for the SIP tap's tests.
    packages+=(chromium espeak-ng fonts-ipafont-gothic sip-tester tcpdump tcpreplay libpcap-dev iproute2)
    extras="[test]"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
/usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q ".$extras"
chmod -R a+rX "$venv"
install -d /etc/bash_completion.d
"$venv/bin/register-python-argcomplete" callrec > /etc/bash_completion.d/callrec
echo "installed callrec into $venv"
