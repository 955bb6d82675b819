"""Who may keep the service guide: the competent authority (Art 20), scoped by region (Art 5).

An authority maintains the services of agencies in its region or below it; a change of serving
agency needs the authority over both the old and the new agency. Reading is public.
"""

from __future__ import annotations

from govshare.core.auth import Principal
from govshare.core.errors import Forbidden


def check_authority(p: Principal, region_path: str) -> None:
    if not p.covers_region(region_path, "authority"):
        raise Forbidden(
            "guide.out_of_scope",
            "无权维护该服务：须由服务机关所在地区或上级的信息化主管部门维护",
            "Not allowed to keep this service: only the authority of the serving agency's region or above may",
            article="Art 20",
            field="agency",
        )
