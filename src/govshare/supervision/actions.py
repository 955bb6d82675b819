"""What each event action means: its label (Chinese; English through the Babel catalog) and the
article of the Measures it serves, for the supervisors' ledger pages (Art 32, 34).

``ACTIONS`` holds every action code the platform records (``core.events.record(action=...)``
anywhere in ``govshare``); ``tests/supervision/test_action_labels.py`` reads the source and fails
when an action is recorded that has no entry here, so a new action cannot reach the ledger
unlabelled. An unknown code (an event written by an older or newer version) is shown as it is.

``SUBJECTS`` names the kinds of subject events are about, the same way.
"""

from __future__ import annotations

import dataclasses

from govshare.portal import i18n
from govshare.portal.i18n import N_


@dataclasses.dataclass(frozen=True, slots=True)
class ActionInfo:
    #: Chinese label; the msgid of its English.
    label: str
    #: The article the action serves, as ``"Art 15"``.
    article: str


def _a(label: str, article: str) -> ActionInfo:
    return ActionInfo(label, article)


ACTIONS: dict[str, ActionInfo] = {
    # Sign-in and credentials: security management (Art 31), attributable to named staff (Art 34).
    "auth.login": _a(N_("登录平台"), "Art 31"),
    "auth.login_failed": _a(N_("登录失败"), "Art 31"),
    "auth.logout": _a(N_("退出登录"), "Art 31"),
    "auth.password_check_failed": _a(N_("当前密码核对失败"), "Art 31"),
    # The registry: regions and their authorities (Art 5), agencies, people, roles, credentials.
    "registry.region.created": _a(N_("新建行政区划"), "Art 5"),
    "registry.agency.created": _a(N_("登记机关"), "Art 5"),
    "registry.agency.updated": _a(N_("变更机关信息"), "Art 30"),
    "registry.person.created": _a(N_("新建人员账号"), "Art 31"),
    "registry.person.deactivated": _a(N_("停用人员账号"), "Art 31"),
    "registry.person.reactivated": _a(N_("恢复人员账号"), "Art 31"),
    "registry.person.password_set": _a(N_("设置密码"), "Art 31"),
    "registry.role.granted": _a(N_("授予角色"), "Art 31"),
    "registry.token.issued": _a(N_("签发接口令牌"), "Art 31"),
    "registry.token.revoked": _a(N_("吊销接口令牌"), "Art 31"),
    "registry.client.created": _a(N_("登记接入系统"), "Art 31"),
    "registry.client.revoked": _a(N_("吊销接入系统"), "Art 31"),
    # The shared catalog: entries, their versions and review (Art 9-10), demands (Art 9).
    "catalog.resource.created": _a(N_("创建目录条目"), "Art 9"),
    "catalog.resource.updated": _a(N_("变更目录条目"), "Art 9"),
    "catalog.resource.submitted": _a(N_("报送目录条目"), "Art 9"),
    "catalog.resource.published": _a(N_("发布目录条目"), "Art 9"),
    "catalog.resource.rejected": _a(N_("退回目录条目"), "Art 9"),
    "catalog.resource.withdrawn": _a(N_("撤销目录条目"), "Art 10"),
    "catalog.resource.revision_reported": _a(N_("报送目录修订"), "Art 10(2)"),
    "catalog.resource.revision_withdrawn": _a(N_("撤回目录修订"), "Art 10"),
    "catalog.resource.revision_approved": _a(N_("通过目录修订"), "Art 10"),
    "catalog.resource.revision_rejected": _a(N_("退回目录修订"), "Art 10"),
    "catalog.import.completed": _a(N_("完成目录批量导入"), "Art 9"),
    "catalog.search.reindexed": _a(N_("重建目录检索索引"), "Art 21"),
    "catalog.demand.filed": _a(N_("登记共享需求"), "Art 9"),
    "catalog.demand.updated": _a(N_("修改共享需求"), "Art 10(2)"),
    "catalog.demand.matched": _a(N_("需求匹配目录条目"), "Art 9"),
    "catalog.demand.routed": _a(N_("需求转交提供机关"), "Art 9"),
    "catalog.demand.closed": _a(N_("关闭共享需求"), "Art 9"),
    # Exchange: interfaces and hosted datasets (Art 15), off-platform filings (Art 14).
    "exchange.interface.attached": _a(N_("接入共享接口"), "Art 15"),
    "exchange.interface.updated": _a(N_("修改共享接口"), "Art 15"),
    "exchange.interface.detached": _a(N_("停用共享接口"), "Art 15"),
    "exchange.dataset.version_accepted": _a(N_("接收数据集新版本"), "Art 15"),
    "exchange.gateway.call": _a(N_("经交换网关调用共享数据"), "Art 17"),
    "exchange.filing.filed": _a(N_("平台外交换备案"), "Art 14(3)"),
    "exchange.filing.ended": _a(N_("终止交换备案"), "Art 14(3)"),
    "exchange.filing.report_submitted": _a(N_("报送交换统计"), "Art 14(3)"),
    "exchange.subject.looked_up": _a(N_("查询数据主体的数据使用记录"), "Art 32"),
    # Sharing: requests and their clocks (Art 13, 17-18), agreements and disputes (Art 19), grants.
    "sharing.request.submitted": _a(N_("提出共享申请"), "Art 17"),
    "sharing.request.granted_at_once": _a(N_("无条件共享即时获得"), "Art 13"),
    "sharing.request.approved": _a(N_("同意共享申请"), "Art 18"),
    "sharing.request.refused": _a(N_("拒绝共享申请"), "Art 13"),
    "sharing.request.withdrawn": _a(N_("撤回共享申请"), "Art 17"),
    "sharing.request.overdue": _a(N_("共享申请逾期未答复"), "Art 18"),
    "sharing.request.reminded": _a(N_("答复期限临近提醒"), "Art 18"),
    "sharing.request.deadline_recomputed": _a(N_("重算答复期限"), "Art 18"),
    "sharing.request.clock_held": _a(N_("争议期间暂停计时"), "Art 19"),
    "sharing.request.clock_resumed": _a(N_("争议解决恢复计时"), "Art 19"),
    "sharing.deadlines.recomputed": _a(N_("导入节假日后重算临时期限"), "Art 18"),
    "sharing.refusal.filed": _a(N_("拒绝理由报主管部门备案"), "Art 18"),
    "sharing.agreement.created": _a(N_("生成保密协议"), "Art 19"),
    "sharing.agreement.signed": _a(N_("签署保密协议"), "Art 19"),
    "sharing.agreement.voided": _a(N_("作废保密协议"), "Art 19"),
    "sharing.grant.created": _a(N_("生成共享授权"), "Art 17"),
    "sharing.grant.activated": _a(N_("共享授权生效"), "Art 17"),
    "sharing.grant.expired": _a(N_("共享授权到期"), "Art 17"),
    "sharing.grant.revoked": _a(N_("撤销共享授权"), "Art 17"),
    "sharing.dispute.opened": _a(N_("提出涉密争议"), "Art 19"),
    "sharing.dispute.decided": _a(N_("争议作出决定"), "Art 19"),
    # Sharing outside the catalog (Art 13(1)) and publication consent (Art 17).
    "sharing.negotiation.opened": _a(N_("发起目录外共享协商"), "Art 13(1)"),
    "sharing.negotiation.message": _a(N_("协商留言"), "Art 13(1)"),
    "sharing.negotiation.proposal": _a(N_("提出协商方案"), "Art 13(1)"),
    "sharing.negotiation.agreed": _a(N_("协商达成一致"), "Art 13(1)"),
    "sharing.negotiation.escalated": _a(N_("协商不成提请主管部门"), "Art 13(1)"),
    "sharing.negotiation.decided": _a(N_("记录本级政府决定"), "Art 13(1)"),
    "sharing.publication.requested": _a(N_("申请向社会公开共享数据"), "Art 17"),
    "sharing.publication.consented": _a(N_("同意公开共享数据"), "Art 17"),
    "sharing.publication.refused": _a(N_("不同意公开共享数据"), "Art 17"),
    "sharing.publication.recorded": _a(N_("记录已公开数据的来源"), "Art 17"),
    # Data quality: one source per datum (Art 11), collection duties and checks (Art 12).
    "quality.element.created": _a(N_("登记数据元"), "Art 11"),
    "quality.element.updated": _a(N_("修改数据元"), "Art 12"),
    "quality.source.assigned": _a(N_("指定数据元采集机关"), "Art 12"),
    "quality.source.ended": _a(N_("终止数据元采集指定"), "Art 12"),
    "quality.item.linked": _a(N_("信息项关联数据元"), "Art 11"),
    "quality.duplicate.flagged": _a(N_("发现重复采集"), "Art 11(1)"),
    "quality.duplicate.answered": _a(N_("答复重复采集"), "Art 11(1)"),
    "quality.reconciliation.started": _a(N_("开始数据比对"), "Art 11(2)"),
    "quality.reconciliation.completed": _a(N_("完成数据比对"), "Art 11(2)"),
    "quality.reconciliation.failed": _a(N_("数据比对失败"), "Art 11(2)"),
    "quality.reconciliation.interrupted": _a(N_("数据比对中断"), "Art 11(2)"),
    "quality.reconciliation.requeued": _a(N_("数据比对重新排队"), "Art 11(2)"),
    "quality.verification.opened": _a(N_("生成核实任务"), "Art 11(2)"),
    "quality.verification.answered": _a(N_("答复不一致数据"), "Art 11(2)"),
    "quality.verification.answered_all": _a(N_("批量答复不一致数据"), "Art 11(2)"),
    "quality.objection.filed": _a(N_("提出数据异议"), "Art 12"),
    "quality.objection.answered": _a(N_("答复数据异议"), "Art 12"),
    "quality.check.recorded": _a(N_("记录数据质量检查"), "Art 12"),
    # The service guide (Art 20).
    "guide.service.created": _a(N_("登记服务指引"), "Art 20"),
    "guide.service.updated": _a(N_("修改服务指引"), "Art 20"),
    "guide.service.deactivated": _a(N_("停用服务指引"), "Art 20"),
    "guide.service.activated": _a(N_("恢复服务指引"), "Art 20"),
    # The legal calendar behind every working-day deadline (Art 15, 18).
    "calendar.schedule.imported": _a(N_("导入节假日安排"), "Art 18"),
    # Update duty: a change in source data, its update within 20 working days (Art 15(2)).
    "quality.update.recorded": _a(N_("登记源数据变更"), "Art 15(2)"),
    "quality.update.met": _a(N_("数据变更已更新"), "Art 15(2)"),
    "quality.update.overdue": _a(N_("数据变更逾期未更新"), "Art 15(2)"),
}

#: Kinds of subject, as ``Event.subject_type`` names them.
SUBJECTS: dict[str, str] = {
    "catalog_resource": N_("目录条目"),
    "catalog_demand": N_("共享需求"),
    "catalog_import": N_("目录导入"),
    "catalog": N_("目录检索"),
    "exchange_interface": N_("共享接口"),
    "exchange_dataset": N_("数据集"),
    "exchange_filing": N_("交换备案"),
    "exchange_subject": N_("数据主体"),
    "region": N_("行政区"),
    "agency": N_("机关"),
    "person": N_("人员"),
    "api_client": N_("接入系统"),
    "guide_service": N_("服务指引"),
    "calendar_year": N_("节假日安排"),
    "sharing_request": N_("共享申请"),
    "sharing_agreement": N_("保密协议"),
    "sharing_grant": N_("共享授权"),
    "sharing_dispute": N_("涉密争议"),
    "sharing_filing": N_("拒绝备案"),
    "sharing_negotiation": N_("共享协商"),
    "sharing_publication": N_("公开同意"),
    "quality_data_element": N_("数据元"),
    "quality_duplicate_flag": N_("重复采集提示"),
    "quality_reconciliation": N_("数据比对"),
    "quality_verification_task": N_("核实任务"),
    "quality_objection": N_("数据异议"),
    "quality_check_result": N_("质量检查"),
    "quality_update_change": N_("数据变更"),
}


@dataclasses.dataclass(frozen=True, slots=True)
class ActionLabel:
    code: str
    #: The label in the page's language; the code itself when the action is unknown.
    label: str
    #: ``"Art 15"``, or ``None`` when the action is unknown.
    article: str | None
    #: The article as the page's language writes it (《办法》第十五条 / Art 15 of the Measures).
    article_label: str


def label(action: str, lang: str) -> ActionLabel:
    info = ACTIONS.get(action)
    if info is None:
        return ActionLabel(action, action, None, "")
    return ActionLabel(action, i18n.gettext_for(lang)(info.label), info.article, i18n.article_label(info.article, lang))


def subject_kind(subject_type: str, lang: str) -> str:
    text = SUBJECTS.get(subject_type)
    return i18n.gettext_for(lang)(text) if text else subject_type
