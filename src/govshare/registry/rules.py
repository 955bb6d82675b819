"""Pure registry rules: codes, roles and kinds, each with its source."""

from __future__ import annotations

import re

# Unified social credit code, GB 32100-2015: the algorithm lives in ``core.identifiers``
# (reconciliation validates keys with it too); the registry's callers keep using these names.
from govshare.core.identifiers import USCC_ALPHABET as USCC_ALPHABET
from govshare.core.identifiers import USCC_WEIGHTS as USCC_WEIGHTS
from govshare.core.identifiers import make_uscc as make_uscc
from govshare.core.identifiers import org_code as org_code
from govshare.core.identifiers import uscc_check_char as uscc_check_char
from govshare.core.identifiers import uscc_problem as uscc_problem

# --- Regions, GB/T 2260 -------------------------------------------------------------------------

#: ASCII digits only (``\d`` would also take full-width and other scripts' digits) and no trailing
#: newline (``$`` would allow one).
REGION_CODE_RE = re.compile(r"^[0-9]{6}\Z")
REGION_LEVELS = ("province", "city", "county")
REGION_LEVEL_NAMES = {"province": ("省级", "provincial"), "city": ("设区市级", "city"), "county": ("县级", "county")}
#: Digits of a code that name the region itself and are shared by every region below it.
_REGION_PREFIX_LEN = {"province": 2, "city": 4, "county": 6}


def region_level_of(code: str) -> str:
    """Level implied by a GB/T 2260 code: ``xx0000`` province, ``xxxx00`` city, else county."""
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def region_fits_parent(code: str, parent_code: str, parent_level: str) -> bool:
    """GB/T 2260 codes are hierarchical: a region's code starts with its parent's significant
    digits (2 for a province, 4 for a city), so 320508 lies in 320500 and not in 320100."""
    n = _REGION_PREFIX_LEN[parent_level]
    return code[:n] == parent_code[:n]


# --- Agencies, Art 2 ----------------------------------------------------------------------------

#: Art 2: agencies, organisations authorised by law, organisations entrusted by law.
AGENCY_KINDS = {
    "agency": ("行政机关", "administrative agency"),
    "authorised": ("法律法规授权组织", "organisation authorised by law"),
    "entrusted": ("依法受委托组织", "organisation entrusted by law"),
}
AGENCY_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}\Z")

#: Shortest portal password accepted (a platform rule, not the Measures').
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 200

# --- Roles --------------------------------------------------------------------------------------

AGENCY_ROLES = ("agency_staff", "agency_admin")
REGION_ROLES = ("authority", "supervisor", "secrecy_admin")
ROLES = AGENCY_ROLES + REGION_ROLES
ROLE_NAMES = {
    "agency_staff": ("机关工作人员", "agency staff"),
    "agency_admin": ("机关共享负责人", "agency admin (Art 30 responsible person)"),
    "authority": ("信息化主管部门", "competent authority"),
    "supervisor": ("监督人员", "supervisor"),
    "secrecy_admin": ("保密行政管理部门", "secrecy administration"),
    "client": ("机器客户端", "machine client"),
}


def throttle_delay(failures: int, *, free: int, base_seconds: int, max_seconds: int) -> int:
    """Art 31 (security of the platform), OWASP ASVS 2.2.1: seconds a caller waits after the last of
    its ``failures`` recent failed sign-ins before the next attempt. None within the first ``free``;
    then ``base_seconds``, doubling with each further failure, at most ``max_seconds``."""
    if failures < free:
        return 0
    return min(max_seconds, base_seconds * 2 ** min(failures - free, 32))
