"""Service guide vocabularies (Art 20-27). No I/O; every list names its article.

Sectors are the catalog's (``catalog.rules.SECTORS``, Art 22-26), so a service and the catalog
entries it relies on are tagged alike.
"""

from __future__ import annotations

from govshare.catalog.rules import SECTORS, Labels, label

__all__ = ["CHANNELS", "SECTORS", "label"]

#: Art 27: services reach people through several channels (computer, TV, telephone, mobile).
CHANNELS: Labels = {
    "web": ("网站", "website"),
    "mobile_app": ("移动客户端", "mobile app"),
    "phone": ("电话", "telephone"),
    "tv": ("电视", "television"),
    "counter": ("窗口", "service counter"),
}

#: Longest link accepted (browsers and proxies handle 2,000 characters; our links are short).
MAX_LINK_LENGTH = 500
