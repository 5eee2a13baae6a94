"""Case packages that a third party can check offline: the builder (service side), the offline
verifier and the player. The format is specified in ``docs/design/evidence.md``."""

from typing import TYPE_CHECKING

from callrec.lazy import lazy_face

if TYPE_CHECKING:  # loaded on first use (callrec.lazy): a command imports only what it runs
    from callrec.evidence._builder import CasePackage, build_case_package
    from callrec.evidence._names import PACKAGE_FORMAT
    from callrec.evidence._player import PLAYER_SCRIPT, PLAYER_STYLE, player_lines, render_lines
    from callrec.evidence._verify import PackageFiles, Report, check_package, scan_package, verify_package
    from callrec.lazy import lazy_face

__all__ = [
    "CasePackage",
    "PACKAGE_FORMAT",
    "PLAYER_SCRIPT",
    "PLAYER_STYLE",
    "PackageFiles",
    "Report",
    "build_case_package",
    "check_package",
    "player_lines",
    "render_lines",
    "scan_package",
    "verify_package",
]

__getattr__ = lazy_face(__name__, __file__)
