"""Demo catalog: some fifty published entries across the demo agencies, plus a few in other states.

:func:`load_demo_catalog` is called by ``govshare demo load`` after the registry demo. It goes
through the catalog services (acting as ``system``), so every entry has its versions and events,
and covers every classification, every basic category, every share type and provision method.
Providers are found by their demo code (``govshare.demo``), else by a keyword of their name, so
the catalog also loads into a registry built differently; entries whose provider cannot be found
are skipped.

Besides the published entries it leaves, for the review pages: one draft, one submission waiting
for the Suzhou authority, one pending revision, and three demands (matched, routed, open).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.catalog import service
from govshare.catalog.importer import parse_data_items
from govshare.catalog.models import CatalogResource
from govshare.catalog.schemas import DemandCreate, ResourceCreate, ResourceUpdate
from govshare.core.auth import OPERATOR
from govshare.registry.models import Agency

_COND = "仅限行政机关履行法定职责需要，经提供单位审核同意后通过共享平台按需调用，并签订共享保密协议"
_COND_PLAIN = "仅限行政机关履行法定职责需要，经提供单位审核同意后使用"


@dataclasses.dataclass(frozen=True)
class DemoEntry:
    agency: str  # demo agency code
    keyword: str  # fallback: a word of the agency's name
    classification: str
    category: str | None
    name: str
    abstract: str
    format: str
    share_type: str
    provision_method: str
    update_cycle: str
    sectors: tuple[str, ...]
    items: str  # importer syntax: 名称|类型|说明|标记；...
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


def _e(
    agency: str,
    keyword: str,
    cls: str,
    cat: str | None,
    name: str,
    abstract: str,
    fmt: str,
    share: str,
    method: str,
    cycle: str,
    sectors: tuple[str, ...],
    items: str,
    **extra: Any,
) -> DemoEntry:
    return DemoEntry(agency, keyword, cls, cat, name, abstract, fmt, share, method, cycle, sectors, items, extra)


ENTRIES: tuple[DemoEntry, ...] = (
    # --- Basic: population (101) ---
    # Hosted on the platform (exchange demo: generated residents), distributed to each city by the
    # region code of its rows (Art 14(2)); the field codes tell the exchange which items are checked.
    _e(
        "js-gat",
        "公安",
        "basic",
        "population",
        "全省人口基础信息",
        "全省户籍人口和常住人口的基础登记信息，是人口类基础信息资源的权威来源。",
        "database",
        "conditional",
        "hosted_dataset",
        "daily",
        ("public_safety", "civil_affairs"),
        "公民身份号码|字符型|18 位居民身份号码|个人；姓名|字符型||个人；性别|字符型；民族|字符型；"
        "出生日期|日期型||个人；户籍地址|字符型||个人；行政区划代码|字符型|户籍所在县级行政区划（GB/T 2260）",
        security_classification="restricted",
        field_codes={
            "公民身份号码": "id_number",
            "姓名": "name",
            "性别": "gender",
            "民族": "ethnicity",
            "出生日期": "birth_date",
            "户籍地址": "address",
            "行政区划代码": "region_code",
        },
    ),
    _e(
        "js-gat",
        "公安",
        "basic",
        "population",
        "居民身份证签发信息",
        "居民身份证申领、签发、换领、补领记录。",
        "database",
        "conditional",
        "gateway_api",
        "daily",
        ("public_safety",),
        "公民身份号码|字符型||个人；签发机关|字符型；有效期起始日期|日期型；有效期截止日期|日期型",
        security_classification="restricted",
    ),
    _e(
        "js-gat",
        "公安",
        "basic",
        "population",
        "流动人口居住登记信息",
        "流动人口居住登记、居住证申领和签注信息。",
        "database",
        "conditional",
        "gateway_api",
        "daily",
        ("public_safety", "community"),
        "公民身份号码|字符型||个人；姓名|字符型||个人；居住地址|字符型||个人；登记日期|日期型",
        security_classification="restricted",
    ),
    _e(
        "js-mzt",
        "民政",
        "basic",
        "population",
        "婚姻登记信息",
        "结婚登记、离婚登记和补领婚姻登记证信息。",
        "database",
        "conditional",
        "gateway_api",
        "daily",
        ("civil_affairs",),
        "男方姓名|字符型||个人；女方姓名|字符型||个人；登记类型|字符型；登记日期|日期型；登记机关|字符型",
        security_classification="restricted",
    ),
    _e(
        "js-wjw",
        "卫生健康",
        "basic",
        "population",
        "出生医学证明信息",
        "新生儿出生医学证明签发信息，用于户籍登记和社保参保。",
        "database",
        "conditional",
        "gateway_api",
        "daily",
        ("health",),
        "新生儿姓名|字符型||个人；出生日期|日期型||个人；母亲公民身份号码|字符型||个人；签发机构|字符型",
        security_classification="restricted",
    ),
    _e(
        "js-wjw",
        "卫生健康",
        "basic",
        "population",
        "死亡医学证明信息",
        "居民死亡医学证明（推断）书签发信息。",
        "database",
        "conditional",
        "gateway_api",
        "daily",
        ("health", "civil_affairs"),
        "公民身份号码|字符型||个人；死亡日期|日期型||个人；死亡原因|字符型||个人",
        security_classification="restricted",
    ),
    _e(
        "js-tjj",
        "统计",
        "basic",
        "population",
        "人口变动抽样调查汇总数据",
        "全省及各设区市人口变动情况抽样调查汇总结果，不含个体信息。",
        "spreadsheet",
        "unconditional",
        "hosted_dataset",
        "yearly",
        ("statistics",),
        "地区|字符型；年末常住人口|整数型；出生率|数值型；死亡率|数值型",
        security_classification="public",
        format_detail="XLSX",
    ),
    _e(
        "js-mzt",
        "民政",
        "basic",
        "population",
        "遗体火化信息",
        "殡仪馆遗体火化登记信息，用于停发养老金和注销户籍。",
        "database",
        "conditional",
        "gateway_api",
        "daily",
        ("civil_affairs", "social_security"),
        "公民身份号码|字符型||个人；火化日期|日期型；殡仪馆名称|字符型",
        security_classification="restricted",
    ),
    # --- Basic: legal entity (102) ---
    _e(
        "js-scjgj",
        "市场监督",
        "basic",
        "legal_entity",
        "市场主体登记信息",
        "企业、农民专业合作社和个体工商户的设立、变更、注销登记信息。",
        "database",
        "unconditional",
        "gateway_api",
        "realtime",
        ("market_regulation",),
        "统一社会信用代码|字符型；企业名称|字符型；"
        "法定代表人|字符型；注册资本|数值型；成立日期|日期型；登记状态|字符型；住所|字符型",
        security_classification="public",
        # Proxied to the demo provider (exchange.demo_provider), whose JSON keys are these codes.
        field_codes={
            "统一社会信用代码": "uscc",
            "企业名称": "name",
            "法定代表人": "legal_representative",
            "注册资本": "registered_capital",
            "成立日期": "established_on",
            "登记状态": "status",
            "住所": "address",
        },
    ),
    _e(
        "js-scjgj",
        "市场监督",
        "basic",
        "legal_entity",
        "企业年度报告信息",
        "企业通过国家企业信用信息公示系统报送的年度报告公示信息。",
        "database",
        "unconditional",
        "gateway_api",
        "yearly",
        ("market_regulation",),
        "统一社会信用代码|字符型；报告年度|整数型；从业人数|整数型；企业通信地址|字符型",
        security_classification="public",
    ),
    _e(
        "js-mzt",
        "民政",
        "basic",
        "legal_entity",
        "社会组织登记信息",
        "社会团体、民办非企业单位和基金会的登记、年检信息。",
        "database",
        "unconditional",
        "gateway_api",
        "daily",
        ("civil_affairs",),
        "统一社会信用代码|字符型；社会组织名称|字符型；业务主管单位|字符型；登记状态|字符型",
        security_classification="public",
    ),
    _e(
        "js-swj",
        "税务",
        "basic",
        "legal_entity",
        "纳税人登记信息",
        "纳税人税务登记、变更登记和注销登记信息。",
        "database",
        "conditional",
        "gateway_api",
        "daily",
        ("taxation",),
        "纳税人识别号|字符型；纳税人名称|字符型；登记注册类型|字符型；主管税务机关|字符型",
        share_conditions=_COND_PLAIN,
    ),
    _e(
        "js-sft",
        "司法",
        "basic",
        "legal_entity",
        "律师事务所执业许可信息",
        "律师事务所设立、变更和执业许可证信息。",
        "database",
        "unconditional",
        "hosted_dataset",
        "monthly",
        ("public_safety",),
        "统一社会信用代码|字符型；律师事务所名称|字符型；执业许可证号|字符型；负责人|字符型",
        security_classification="public",
    ),
    _e(
        "sz-scjgj",
        "苏州市市场监督",
        "basic",
        "legal_entity",
        "苏州市个体工商户登记信息",
        "苏州市个体工商户设立、变更、注销登记信息。",
        "database",
        "conditional",
        "gateway_api",
        "daily",
        ("market_regulation",),
        "统一社会信用代码|字符型；字号名称|字符型；经营者姓名|字符型||个人；经营场所|字符型",
        security_classification="restricted",
    ),
    # --- Basic: natural resources and geography (103) ---
    _e(
        "js-zrzyt",
        "自然资源",
        "basic",
        "natural_resources_geography",
        "不动产登记信息",
        "土地、房屋等不动产权利首次登记、转移登记、抵押登记信息。",
        "database",
        "conditional",
        "gateway_api",
        "realtime",
        ("natural_resources", "housing"),
        "不动产单元号|字符型；权利人|字符型||个人；"
        "权利人证件号码|字符型||个人；坐落|字符型；权利类型|字符型；登记时间|日期时间型",
        security_classification="restricted",
    ),
    _e(
        "js-zrzyt",
        "自然资源",
        "basic",
        "natural_resources_geography",
        "基础测绘成果目录",
        "1:10000 及更大比例尺基础测绘成果清单。成果属国家秘密，目录不向社会公开。",
        "geospatial",
        "not_shared",
        "off_platform",
        "irregular",
        ("natural_resources",),
        "图幅号|字符型||涉密；成果类型|字符型；比例尺|字符型",
        security_classification="secret",
        open_to_public=False,
        legal_basis="《中华人民共和国测绘法》第三十四条、《中华人民共和国保守国家秘密法》：属于国家秘密的测绘成果，"
        "按保密规定提供，不纳入共享",
    ),
    _e(
        "js-zrzyt",
        "自然资源",
        "basic",
        "natural_resources_geography",
        "国土空间规划一张图",
        "省市县国土空间总体规划、详细规划的矢量成果。",
        "geospatial",
        "conditional",
        "hosted_dataset",
        "quarterly",
        ("natural_resources",),
        "规划单元编码|字符型；用地用途|字符型；规划面积|数值型；空间范围|空间数据",
        share_conditions=_COND_PLAIN,
        format_detail="Shapefile",
    ),
    _e(
        "js-sthjt",
        "生态环境",
        "basic",
        "natural_resources_geography",
        "生态保护红线矢量数据",
        "全省生态保护红线的空间范围和管控类型。",
        "geospatial",
        "conditional",
        "file",
        "yearly",
        ("environment", "natural_resources"),
        "红线编码|字符型；红线名称|字符型；管控类型|字符型；空间范围|空间数据",
        share_conditions=_COND_PLAIN,
        format_detail="GeoJSON",
    ),
    _e(
        "js-zrzyt",
        "自然资源",
        "basic",
        "natural_resources_geography",
        "行政区划界线数据",
        "省、市、县三级行政区划界线和驻地。",
        "geospatial",
        "unconditional",
        "hosted_dataset",
        "yearly",
        ("natural_resources",),
        "行政区划代码|字符型；行政区划名称|字符型；界线|空间数据",
        security_classification="public",
        format_detail="GeoJSON",
    ),
    # --- Basic: social credit (104) ---
    _e(
        "js-swj",
        "税务",
        "basic",
        "social_credit",
        "A级纳税人名单",
        "年度纳税信用评价为 A 级的纳税人名单。",
        "spreadsheet",
        "unconditional",
        "hosted_dataset",
        "yearly",
        ("taxation",),
        "纳税人识别号|字符型；纳税人名称|字符型；评价年度|整数型",
        security_classification="public",
    ),
    _e(
        "js-scjgj",
        "市场监督",
        "basic",
        "social_credit",
        "经营异常名录信息",
        "列入、移出经营异常名录的市场主体及其原因。",
        "database",
        "unconditional",
        "gateway_api",
        "daily",
        ("market_regulation",),
        "统一社会信用代码|字符型；企业名称|字符型；列入原因|字符型；列入日期|日期型；移出日期|日期型",
        security_classification="public",
    ),
    _e(
        "js-scjgj",
        "市场监督",
        "basic",
        "social_credit",
        "市场监管行政处罚信息",
        "市场监管部门作出的行政处罚决定公示信息。",
        "database",
        "unconditional",
        "gateway_api",
        "daily",
        ("market_regulation",),
        "行政处罚决定书文号|字符型；当事人名称|字符型；违法行为类型|字符型；处罚内容|字符型；处罚决定日期|日期型",
        security_classification="public",
    ),
    _e(
        "js-swj",
        "税务",
        "basic",
        "social_credit",
        "重大税收违法失信主体信息",
        "按规定公布的重大税收违法失信主体名单。",
        "database",
        "unconditional",
        "gateway_api",
        "monthly",
        ("taxation",),
        "纳税人识别号|字符型；纳税人名称|字符型；案件性质|字符型；公布日期|日期型",
        security_classification="public",
    ),
    _e(
        "js-zjt",
        "住房和城乡建设",
        "basic",
        "social_credit",
        "建筑市场主体信用评价信息",
        "建筑业企业信用综合评价结果。",
        "database",
        "unconditional",
        "gateway_api",
        "monthly",
        ("housing",),
        "统一社会信用代码|字符型；企业名称|字符型；信用等级|字符型；评价日期|日期型",
        security_classification="public",
    ),
    # --- Basic: e-licences (105) ---
    _e(
        "js-gat",
        "公安",
        "basic",
        "e_licence",
        "居民身份证电子证照",
        "居民身份证电子证照，用于政务服务“免证办”。",
        "api",
        "conditional",
        "gateway_api",
        "realtime",
        ("public_safety",),
        "公民身份号码|字符型||个人；姓名|字符型||个人；证照照面|二进制||个人",
        security_classification="restricted",
    ),
    _e(
        "js-scjgj",
        "市场监督",
        "basic",
        "e_licence",
        "营业执照电子证照",
        "企业和个体工商户电子营业执照。",
        "api",
        "unconditional",
        "gateway_api",
        "realtime",
        ("market_regulation",),
        "统一社会信用代码|字符型；名称|字符型；证照文件|二进制",
        security_classification="public",
    ),
    _e(
        "js-mzt",
        "民政",
        "basic",
        "e_licence",
        "结婚证电子证照",
        "结婚证电子证照。",
        "api",
        "conditional",
        "gateway_api",
        "realtime",
        ("civil_affairs",),
        "持证人公民身份号码|字符型||个人；登记日期|日期型；证照文件|二进制||个人",
        security_classification="restricted",
    ),
    _e(
        "js-jtt",
        "交通运输",
        "basic",
        "e_licence",
        "道路运输经营许可证电子证照",
        "道路旅客运输、货物运输经营许可证电子证照。",
        "api",
        "unconditional",
        "gateway_api",
        "realtime",
        ("transport",),
        "许可证号|字符型；经营者名称|字符型；经营范围|字符型；有效期|日期型",
        security_classification="public",
    ),
    _e(
        "js-zjt",
        "住房和城乡建设",
        "basic",
        "e_licence",
        "建筑施工企业安全生产许可证",
        "建筑施工企业安全生产许可证电子证照。",
        "api",
        "unconditional",
        "gateway_api",
        "realtime",
        ("housing", "emergency"),
        "许可证编号|字符型；企业名称|字符型；有效期|日期型",
        security_classification="public",
    ),
    _e(
        "js-wjw",
        "卫生健康",
        "basic",
        "e_licence",
        "医师执业证书电子证照",
        "医师执业注册电子证照。",
        "api",
        "conditional",
        "gateway_api",
        "realtime",
        ("health",),
        "医师姓名|字符型||个人；执业证书编码|字符型；执业类别|字符型；执业地点|字符型",
        security_classification="restricted",
    ),
    # --- Thematic (2xx) ---
    _e(
        "js-wjw",
        "卫生健康",
        "thematic",
        "health",
        "居民电子健康档案信息",
        "居民电子健康档案和电子病历摘要，支撑医疗卫生协同服务（第二十三条）。",
        "database",
        "conditional",
        "gateway_api",
        "realtime",
        ("health",),
        "公民身份号码|字符型||个人；既往病史|字符型||个人；过敏史|字符型||个人；建档机构|字符型",
        security_classification="restricted",
    ),
    _e(
        "js-ybj",
        "医疗保障",
        "thematic",
        "social_security",
        "医疗保险参保人员信息",
        "基本医疗保险参保登记和缴费状态。",
        "database",
        "conditional",
        "gateway_api",
        "daily",
        ("health", "social_security"),
        "公民身份号码|字符型||个人；参保类型|字符型；参保状态|字符型；参保地|字符型",
        security_classification="restricted",
    ),
    _e(
        "js-rst",
        "人力资源",
        "thematic",
        "social_security",
        "社会保险参保缴费信息",
        "企业职工养老、失业、工伤保险参保和缴费信息（第二十四条）。",
        "database",
        "conditional",
        "gateway_api",
        "monthly",
        ("social_security", "employment"),
        "公民身份号码|字符型||个人；参保单位|字符型；险种|字符型；缴费基数|数值型||个人；缴费月份|字符型",
        security_classification="restricted",
    ),
    _e(
        "js-rst",
        "人力资源",
        "thematic",
        "social_security",
        "就业失业登记信息",
        "劳动者就业登记、失业登记和就业困难人员认定信息。",
        "database",
        "conditional",
        "gateway_api",
        "daily",
        ("employment",),
        "公民身份号码|字符型||个人；就业状态|字符型；登记日期|日期型；登记机构|字符型",
        security_classification="restricted",
    ),
    _e(
        "js-rst",
        "人力资源",
        "thematic",
        "public_service",
        "公共就业岗位信息",
        "公共就业服务机构发布的招聘岗位信息。",
        "api",
        "unconditional",
        "gateway_api",
        "daily",
        ("employment",),
        "岗位名称|字符型；招聘单位|字符型；工作地点|字符型；薪酬范围|字符型；发布日期|日期型",
        security_classification="public",
    ),
    _e(
        "js-mzt",
        "民政",
        "thematic",
        "social_security",
        "最低生活保障对象信息",
        "城乡最低生活保障对象认定和保障金发放信息。",
        "database",
        "conditional",
        "gateway_api",
        "monthly",
        ("civil_affairs", "social_security"),
        "公民身份号码|字符型||个人；家庭人口数|整数型；保障金额|数值型||个人；认定日期|日期型",
        security_classification="restricted",
    ),
    _e(
        "js-mzt",
        "民政",
        "thematic",
        "public_service",
        "养老机构信息",
        "养老机构备案、床位和服务等级信息。",
        "spreadsheet",
        "unconditional",
        "hosted_dataset",
        "quarterly",
        ("elderly_care", "civil_affairs"),
        "机构名称|字符型；地址|字符型；床位数|整数型；服务等级|字符型",
        security_classification="public",
        format_detail="XLSX",
    ),
    _e(
        "js-scjgj",
        "市场监督",
        "thematic",
        "food_drug_safety",
        "食品生产经营许可信息",
        "食品生产许可证和食品经营许可证发放信息，支撑食品安全追溯（第二十三条）。",
        "database",
        "unconditional",
        "gateway_api",
        "daily",
        ("food_drug", "market_regulation"),
        "许可证编号|字符型；经营者名称|字符型；经营项目|字符型；有效期至|日期型",
        security_classification="public",
    ),
    _e(
        "js-scjgj",
        "市场监督",
        "thematic",
        "food_drug_safety",
        "药品零售企业信息",
        "药品经营许可证（零售）持证企业信息。",
        "database",
        "unconditional",
        "gateway_api",
        "weekly",
        ("food_drug",),
        "许可证编号|字符型；企业名称|字符型；经营范围|字符型；注册地址|字符型",
        security_classification="public",
    ),
    _e(
        "js-sthjt",
        "生态环境",
        "thematic",
        "ecology_environment",
        "重点排污单位自动监测数据",
        "重点排污单位废水、废气污染物排放自动监测小时数据。",
        "api",
        "unconditional",
        "gateway_api",
        "realtime",
        ("environment",),
        "排污单位名称|字符型；监测点位|字符型；污染物|字符型；排放浓度|数值型；监测时间|日期时间型",
        security_classification="public",
    ),
    _e(
        "js-gjj",
        "公积金",
        "thematic",
        "social_security",
        "住房公积金缴存信息",
        "职工住房公积金缴存、提取和贷款信息。",
        "database",
        "conditional",
        "gateway_api",
        "monthly",
        ("housing", "social_security"),
        "公民身份号码|字符型||个人；缴存单位|字符型；缴存基数|数值型||个人；账户状态|字符型",
        security_classification="restricted",
    ),
    _e(
        "js-jyt",
        "教育",
        "thematic",
        "public_service",
        "中小学学籍信息",
        "全省中小学生学籍注册、转学和毕业信息（第二十二条）。",
        "database",
        "conditional",
        "gateway_api",
        "daily",
        ("education",),
        "学籍号|字符型||个人；学生姓名|字符型||个人；学校名称|字符型；年级|字符型",
        security_classification="restricted",
    ),
    _e(
        "js-jyt",
        "教育",
        "thematic",
        "public_service",
        "义务教育学校名录",
        "全省义务教育阶段学校名称、办学地址和学区划分。",
        "spreadsheet",
        "unconditional",
        "hosted_dataset",
        "yearly",
        ("education",),
        "学校名称|字符型；学校类型|字符型；办学地址|字符型；学区|字符型",
        security_classification="public",
        format_detail="CSV",
    ),
    _e(
        "js-jtt",
        "交通运输",
        "thematic",
        "public_service",
        "公共交通线路和站点信息",
        "城市公交、城际客运线路和站点位置。",
        "api",
        "unconditional",
        "gateway_api",
        "weekly",
        ("transport",),
        "线路编号|字符型；线路名称|字符型；站点名称|字符型；站点坐标|空间数据",
        security_classification="public",
    ),
    _e(
        "nj-mzj",
        "南京市民政",
        "thematic",
        "community_governance",
        "南京市社区网格化服务管理信息",
        "社区网格划分、网格员和网格事件处置信息（第二十五条）。",
        "database",
        "conditional",
        "gateway_api",
        "daily",
        ("community",),
        "网格编码|字符型；所属社区|字符型；网格员姓名|字符型||个人；事件类型|字符型；处置状态|字符型",
        security_classification="restricted",
    ),
    _e(
        "js-zjt",
        "住房和城乡建设",
        "thematic",
        "urban_rural_construction",
        "城镇老旧小区改造项目信息",
        "城镇老旧小区改造计划、项目进度和资金安排。",
        "spreadsheet",
        "unconditional",
        "file",
        "quarterly",
        ("housing", "community"),
        "项目名称|字符型；所在地区|字符型；改造户数|整数型；开工日期|日期型",
        security_classification="public",
        format_detail="XLSX",
    ),
    _e(
        "wx-scjgj",
        "无锡市市场监督",
        "thematic",
        "work_safety",
        "无锡市特种设备使用登记信息",
        "电梯、锅炉、压力容器等特种设备使用登记和定期检验信息。",
        "database",
        "conditional",
        "gateway_api",
        "daily",
        ("market_regulation", "emergency"),
        "设备注册代码|字符型；设备类别|字符型；使用单位|字符型；下次检验日期|日期型",
        share_conditions=_COND_PLAIN,
    ),
    _e(
        "js-jtt",
        "交通运输",
        "thematic",
        "emergency_response",
        "危险货物道路运输车辆动态信息",
        "危险货物运输车辆卫星定位动态数据。",
        "api",
        "conditional",
        "gateway_api",
        "realtime",
        ("transport", "emergency"),
        "车牌号码|字符型；运输企业|字符型；经纬度|空间数据；定位时间|日期时间型",
        share_conditions=_COND_PLAIN,
        contains_commercial_secret=True,
    ),
    # --- Departmental (300) ---
    _e(
        "js-tjj",
        "统计",
        "departmental",
        None,
        "江苏统计年鉴",
        "全省经济社会发展统计年鉴电子版。",
        "file",
        "unconditional",
        "file",
        "yearly",
        ("statistics",),
        "年鉴年份|整数型；章节|字符型；表格文件|二进制",
        security_classification="public",
        format_detail="PDF, XLSX",
    ),
    _e(
        "js-czt",
        "财政",
        "departmental",
        None,
        "财政预决算公开信息",
        "省级部门预算、决算公开报表。",
        "spreadsheet",
        "unconditional",
        "hosted_dataset",
        "yearly",
        ("finance",),
        "部门名称|字符型；年度|整数型；收入合计|数值型；支出合计|数值型",
        security_classification="public",
        format_detail="XLSX",
    ),
    _e(
        "js-gat",
        "公安",
        "departmental",
        None,
        "刑事案件侦查信息",
        "刑事案件立案、侦查和办案过程信息。",
        "database",
        "not_shared",
        "off_platform",
        "realtime",
        ("public_safety",),
        "案件编号|字符型||涉密；案件类别|字符型；办案单位|字符型；涉案人员|字符型||个人",
        security_classification="secret",
        contains_personal_info=True,
        open_to_public=False,
        legal_basis="《中华人民共和国刑事诉讼法》第一百五十二条及《中华人民共和国保守国家秘密法》：侦查信息属于国家秘密，"
        "不予共享",
    ),
    _e(
        "js-swj",
        "税务",
        "departmental",
        None,
        "增值税发票开具明细信息",
        "纳税人增值税发票开具明细。",
        "database",
        "not_shared",
        "off_platform",
        "realtime",
        ("taxation",),
        "发票代码|字符型；销售方名称|字符型；购买方名称|字符型；金额|数值型",
        contains_commercial_secret=True,
        open_to_public=False,
        legal_basis="《中华人民共和国税收征收管理法》第八条：税务机关应当依法为纳税人的商业秘密及个人隐私保密",
    ),
    _e(
        "js-sft",
        "司法",
        "departmental",
        None,
        "人民调解组织信息",
        "人民调解委员会设立和调解员信息。",
        "spreadsheet",
        "unconditional",
        "hosted_dataset",
        "quarterly",
        ("community",),
        "调解委员会名称|字符型；所在乡镇街道|字符型；调解员人数|整数型",
        security_classification="public",
    ),
    _e(
        "sz-rsj",
        "苏州市人力资源",
        "departmental",
        None,
        "苏州市职业技能培训补贴发放信息",
        "职业技能培训补贴申领和发放记录，按季度报送统计。",
        "spreadsheet",
        "conditional",
        "off_platform",
        "quarterly",
        ("employment",),
        "公民身份号码|字符型||个人；培训项目|字符型；补贴金额|数值型",
        security_classification="restricted",
    ),
    _e(
        "js-czt",
        "财政",
        "departmental",
        None,
        "政府采购项目公告信息",
        "政府采购项目采购公告、中标成交结果公告。",
        "api",
        "unconditional",
        "gateway_api",
        "daily",
        ("finance",),
        "项目编号|字符型；项目名称|字符型；采购人|字符型；中标供应商|字符型；成交金额|数值型",
        security_classification="public",
    ),
)


def _agency(session: Session, code: str, keyword: str) -> Agency | None:
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        agency = session.scalar(
            select(Agency)
            .where(Agency.name.like(f"%{keyword}%"), Agency.is_authority.is_(False))
            .order_by(Agency.region_code, Agency.id)
            .limit(1)
        )
    return agency


def _create(session: Session, e: DemoEntry, agency: Agency) -> CatalogResource:
    items = parse_data_items(e.items)
    extra = dict(e.extra)
    codes = extra.pop("field_codes", {})
    for item in items:
        item["field_code"] = codes.get(item["name"])
    extra.setdefault("contains_personal_info", any(i["is_personal"] for i in items))
    extra.setdefault("open_to_public", e.share_type != "not_shared")
    if e.share_type == "conditional":
        extra.setdefault("share_conditions", _COND)
    data = ResourceCreate(
        provider=agency.code,
        classification=e.classification,
        category=e.category,
        name=e.name,  # type: ignore[arg-type]
        abstract=e.abstract,
        format=e.format,
        share_type=e.share_type,
        provision_method=e.provision_method,  # type: ignore[arg-type]
        update_cycle=e.update_cycle,
        sectors=list(e.sectors),
        data_items=items,
        **extra,
    )  # type: ignore[arg-type]
    return service.create_resource(session, data, by=OPERATOR)


@dataclasses.dataclass(frozen=True)
class DemoCatalogSummary:
    published: int
    other: int
    demands: int
    skipped: int


def load_demo_catalog(session: Session) -> DemoCatalogSummary:
    """Load the demo catalog through the services (as ``system``); flushes, never commits.
    Does nothing when the catalog already has entries."""
    if session.scalar(select(CatalogResource.id).limit(1)) is not None:
        return DemoCatalogSummary(0, 0, 0, 0)
    published: dict[str, CatalogResource] = {}
    skipped = 0
    for e in ENTRIES:
        agency = _agency(session, e.agency, e.keyword)
        if agency is None:
            skipped += 1
            continue
        resource = _create(session, e, agency)
        service.submit(session, resource.id, by=OPERATOR)
        service.publish(session, resource.id, by=OPERATOR)
        published[e.name] = resource

    other = 0
    gat = _agency(session, "js-gat", "公安")
    if gat is not None:  # a draft the demo agency staff is still writing
        _create(
            session,
            _e(
                "js-gat",
                "公安",
                "basic",
                "population",
                "出入境证件签发信息",
                "普通护照、往来港澳台通行证签发信息（编写中）。",
                "database",
                "conditional",
                "gateway_api",
                "daily",
                ("public_safety",),
                "公民身份号码|字符型||个人；证件类型|字符型",
            ),
            gat,
        )
        other += 1
    sz = _agency(session, "sz-scjgj", "苏州市市场监督")
    if sz is not None:  # waiting for the Suzhou authority
        r = _create(
            session,
            _e(
                "sz-scjgj",
                "苏州市市场监督",
                "thematic",
                "food_drug_safety",
                "苏州市食品安全抽检信息",
                "食品安全监督抽检结果。",
                "spreadsheet",
                "unconditional",
                "hosted_dataset",
                "monthly",
                ("food_drug",),
                "样品名称|字符型；抽检结果|字符型",
                security_classification="public",
            ),
            sz,
        )
        service.submit(session, r.id, by=OPERATOR)
        other += 1
    jobs = published.get("公共就业岗位信息")
    if jobs is not None:  # a pending revision reported to the authority (Art 10(2))
        service.update_resource(
            session,
            jobs.id,
            ResourceUpdate(
                update_cycle="realtime",
                abstract="公共就业服务机构和合作平台发布的招聘岗位信息，实时更新。",
                note="接入省公共招聘网实时数据",
            ),
            by=OPERATOR,
        )

    demands = 0
    rst = _agency(session, "js-rst", "人力资源")
    market = published.get("市场主体登记信息")
    if rst is not None:
        d = service.file_demand(
            session,
            DemandCreate(
                requester=rst.code,
                title="企业登记注册信息",
                description="办理社会保险单位参保登记时核验企业登记状态",
                duty="社会保险登记（《社会保险法》第五十七条）",
                legal_basis="《中华人民共和国社会保险法》第五十七条",
                wanted_items="统一社会信用代码、企业名称、登记状态",
            ),
            by=OPERATOR,
        )
        demands += 1
        if market is not None:
            service.match_demand(session, d.id, [str(market.id)], note="市场主体登记信息可满足", by=OPERATOR)
    jyt = _agency(session, "js-jyt", "教育")
    if jyt is not None and gat is not None:
        d = service.file_demand(
            session,
            DemandCreate(
                requester=jyt.code,
                title="适龄儿童户籍信息",
                description="义务教育招生入学时核验适龄儿童户籍",
                duty="义务教育招生入学（《义务教育法》第十二条）",
                legal_basis="《中华人民共和国义务教育法》第十二条",
                wanted_items="儿童姓名、公民身份号码、户籍地址、监护人",
            ),
            by=OPERATOR,
        )
        service.route_demand(session, d.id, [gat.code], note="请评估可否编目提供", by=OPERATOR)
        demands += 1
    mz = _agency(session, "nj-mzj", "民政")
    if mz is not None:
        service.file_demand(
            session,
            DemandCreate(
                requester=mz.code,
                title="残疾人证信息",
                description="发放困难残疾人生活补贴时核验残疾等级",
                duty="困难残疾人生活补贴发放",
                legal_basis="《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》",
                wanted_items="公民身份号码、残疾类别、残疾等级",
            ),
            by=OPERATOR,
        )
        demands += 1
    return DemoCatalogSummary(published=len(published), other=other, demands=demands, skipped=skipped)
