"""What each kind of import file contains: one declarative `Schema` per `ImportKind`.

A schema lists its fields with their canonical name, the English and Chinese headers that
exports write and imports recognise (plus other common aliases), how a cell is parsed,
whether it is required, and the natural key that makes an import an upsert. Import,
export, the mapping page and the CLI all read these declarations, so a column added
here appears everywhere at once.

Choice labels accept the stored value, the English label and the usual Chinese words, so
a file written by a Chinese shop system ("已付款", "门店") reads without a mapping step.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from .models import ImportKind
from .parsing import (
    Choices,
    ParseError,
    parse_amount,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_email,
    parse_phone,
    parse_text,
)


def gettext_noop(message: str) -> str:
    """Return `message` unchanged; the name lets Django's makemessages extract it."""
    return message


# Reasons raised by the parsers built here; translated by the caller like parsing.MESSAGES.
NEGATIVE = gettext_noop('"{value}" is negative; the value cannot be below zero.')
NOT_POSITIVE = gettext_noop('"{value}" must be greater than zero.')
TOO_LARGE = gettext_noop('"{value}" is too large; the limit is {limit}.')
BAD_CURRENCY = gettext_noop('"{value}" is not a currency code; write three letters, such as CNY.')
TAG_TOO_LONG = gettext_noop('The tag "{value}" has more than {limit} characters.')

# Columns that the rejected-rows file adds in front of the data, in English and Chinese
# (pgettext "rejected rows file": "row", "errors"), ignored on import: a corrected file
# goes back in without a mapping step.
REJECT_COLUMNS = ("row", "errors", "行号", "错误")

_TAG_SEPARATORS = re.compile(r"[,，;；、|]")


@dataclass(frozen=True)
class Field:
    """One column of an import file.

    `name` is the canonical field name (what a mapping stores); `header` and `header_zh`
    are what exports write; `aliases` holds every header that matches, both of those
    included. `type` picks the parser; `places`, `minimum` (``"zero"`` or ``"positive"``)
    and `limit` bound numbers, `max_length` bounds text, `choices` lists accepted labels.
    """

    name: str
    label: Any
    header: str
    header_zh: str
    aliases: tuple[str, ...]
    type: str = "text"
    required: bool = False
    max_length: int | None = None
    choices: Choices | None = None
    places: int = 2
    minimum: str | None = None
    limit: Decimal | None = None

    def parser(self, tz) -> Callable[[Any], Any]:
        """A function cell -> clean value (None when empty), raising ParseError."""
        build = _PARSERS[self.type]
        return build(self, tz)


def field(name, label, en, zh, type="text", **options) -> Field:
    """Declare a field; the first English and the first Chinese alias are the export headers."""
    en, zh = list(en), list(zh)
    return Field(
        name=name,
        label=label,
        header=en[0],
        header_zh=zh[0],
        aliases=tuple(dict.fromkeys(en + zh)),
        type=type,
        **options,
    )


def _text(f: Field, tz):
    return lambda value: parse_text(value, f.max_length)


def _multiline(f: Field, tz):
    return lambda value: parse_text(value, f.max_length, multiline=True)


def _phone(f: Field, tz):
    return parse_phone


def _email(f: Field, tz):
    return parse_email


def _date(f: Field, tz):
    return parse_date


def _datetime(f: Field, tz):
    return lambda value: parse_datetime(value, tz)


def _bool(f: Field, tz):
    return parse_bool


def _choice(f: Field, tz):
    return f.choices.parse


def _shown(value: Any) -> str:
    text = str(value).strip()
    return text if len(text) <= 60 else text[:59] + "…"


def _number(f: Field, tz):
    def parse(value):
        number = parse_amount(value, f.places)
        if number is None:
            return None
        if f.minimum == "zero" and number < 0:
            raise ParseError(NEGATIVE, value=_shown(value))
        if f.minimum == "positive" and number <= 0:
            raise ParseError(NOT_POSITIVE, value=_shown(value))
        if f.limit is not None and abs(number) >= f.limit:
            raise ParseError(TOO_LARGE, value=_shown(value), limit=f"{f.limit:,}")
        return number

    return parse


def _currency(f: Field, tz):
    def parse(value):
        text = parse_text(value, 10)
        if text is None:
            return None
        code = text.upper()
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise ParseError(BAD_CURRENCY, value=_shown(text))
        return code

    return parse


def _tags(f: Field, tz):
    def parse(value):
        text = parse_text(value, 2000)
        if text is None:
            return None
        names = [part.strip() for part in _TAG_SEPARATORS.split(text) if part.strip()]
        for name in names:
            if len(name) > 60:
                raise ParseError(TAG_TOO_LONG, value=name, limit=60)
        return tuple(dict.fromkeys(names)) or None

    return parse


_PARSERS = {
    "text": _text,
    "multiline": _multiline,
    "phone": _phone,
    "email": _email,
    "date": _date,
    "datetime": _datetime,
    "bool": _bool,
    "choice": _choice,
    "number": _number,
    "currency": _currency,
    "tags": _tags,
}


@dataclass(frozen=True)
class Schema:
    """The columns of one kind of file and the natural key that identifies a record."""

    kind: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    # Each line of these files belongs to a group (an order) keyed by `group_key`.
    group_key: tuple[str, ...] = ()

    def get(self, name: str) -> Field:
        return self.by_name[name]

    @property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @property
    def required(self) -> list[Field]:
        return [f for f in self.fields if f.required]


# --- choices ---------------------------------------------------------------------------

CUSTOMER_KIND = Choices(
    {
        "person": ["Person", "个人", "自然人", "个人客户"],
        "organization": ["Organization", "Company", "企业", "公司", "机构", "单位", "企业客户"],
    }
)
CUSTOMER_STATUS = Choices(
    {
        "prospect": ["Prospect", "潜在", "潜在客户"],
        "active": ["Active", "活跃", "有效"],
        "inactive": ["Inactive", "不活跃", "沉睡"],
        "lost": ["Lost", "流失", "已流失"],
    }
)
CUSTOMER_SOURCE = Choices(
    {
        "referral": ["Referral", "推荐", "转介绍"],
        "visit": ["Visit", "拜访", "上门"],
        "exhibition": ["Exhibition", "展会"],
        "association": ["Association", "协会", "行业协会"],
        "web": ["Web", "网络", "网站"],
        "press": ["Press", "媒体", "报刊"],
        "store": ["Store", "门店", "店铺"],
        "staff": ["Customer's staff", "Staff", "员工", "客户员工"],
        "other": ["Other", "其他"],
    }
)
ORGANIZATION_SIZE = Choices(
    {
        "micro": ["Micro", "Micro (< 10 people)", "微型"],
        "small": ["Small", "Small (10-99)", "小型"],
        "medium": ["Medium", "Medium (100-999)", "中型"],
        "large": ["Large", "Large (1,000+)", "大型"],
    }
)
GENDER = Choices({"female": ["Female", "F", "女"], "male": ["Male", "M", "男"]})
DECISION_ROLE = Choices(
    {
        "key_man": ["Decision maker", "Decision maker (key man)", "key man", "决策人", "关键人"],
        "influencer": ["Influencer", "影响者", "影响人"],
        "user": ["User", "使用者", "用户"],
        "gatekeeper": ["Gatekeeper", "把关人", "守门人"],
    }
)
INTERACTION_CHANNEL = Choices(
    {
        "visit": ["Visit", "拜访", "上门"],
        "phone": ["Phone call", "Phone", "电话"],
        "sms": ["SMS", "短信"],
        "email": ["E-mail", "邮件", "电子邮件"],
        "letter": ["Letter", "信函", "信件"],
        "store": ["Store", "门店"],
        "hotline": ["Hotline", "热线", "客服热线"],
        "web": ["Web", "网站", "网页"],
        "event": ["Event", "活动"],
        "chat": ["Chat", "在线聊天", "聊天", "微信"],
    }
)
DIRECTION = Choices(
    {"in": ["Inbound", "呼入", "来访", "入"], "out": ["Outbound", "呼出", "外呼", "出"]}
)
INTENT = Choices(
    {
        "interested": ["Interested", "有意向", "感兴趣"],
        "not_interested": ["Not interested", "无意向", "不感兴趣"],
        "accepted": ["Accepted", "接受", "已接受"],
        "declined": ["Declined", "拒绝", "已拒绝"],
    }
)
FEEDBACK_KIND = Choices(
    {
        "complaint": ["Complaint", "投诉"],
        "suggestion": ["Suggestion", "建议"],
        "praise": ["Praise", "表扬", "好评"],
        "question": ["Question", "咨询", "问题"],
    }
)
FEEDBACK_SOURCE = Choices(
    {
        "review": ["Review", "评价", "评论"],
        "chat": ["Chat", "在线聊天", "聊天"],
        "call": ["Call", "电话", "来电"],
        "survey": ["Survey", "问卷", "调查"],
        "visit": ["Visit", "拜访", "上门"],
    }
)
FEEDBACK_STATUS = Choices(
    {
        "open": ["Open", "待处理", "未处理"],
        "answered": ["Answered", "已答复", "已回复"],
        "closed": ["Closed", "已关闭", "关闭"],
    }
)
ORDER_STATUS = Choices(
    {
        "placed": ["Placed", "已下单", "待付款"],
        "paid": ["Paid", "已付款", "已支付"],
        "shipped": ["Shipped", "已发货"],
        "completed": ["Completed", "已完成", "完成"],
        "cancelled": ["Cancelled", "Canceled", "已取消", "取消"],
        "returned": ["Returned", "已退货", "退货"],
    }
)
SALES_CHANNEL = Choices(
    {
        "store": ["Store", "门店", "线下"],
        "online": ["Online", "线上", "网店", "电商"],
        "phone": ["Phone", "电话"],
        "sales": ["Sales rep", "Sales", "销售", "业务员"],
        "other": ["Other", "其他"],
    }
)
PRODUCT_ROLE = Choices(
    {
        "traffic": ["Traffic driver", "Traffic", "引流", "引流品"],
        "profit": ["Profit item", "Profit", "利润", "利润品"],
        "marginal": ["Marginal item", "Marginal", "边缘", "边缘品"],
        "potential": ["Potential item", "Potential", "潜力", "潜力品"],
    }
)

# Limits from the model fields (max_digits - decimal_places integer digits).
_AMOUNT_LIMIT = Decimal(10) ** 12
_QUANTITY_LIMIT = Decimal(10) ** 11
_DEMAND_LIMIT = Decimal(10) ** 13

# --- shared fields ---------------------------------------------------------------------


def _customer_ref(**options) -> Field:
    return field(
        "customer",
        _("customer code"),
        ["Customer code", "customer", "customer_id", "customer no"],
        ["客户编号", "客户代码", "客户编码"],
        max_length=40,
        required=True,
        **options,
    )


def _phone_fields():
    return (
        field(
            "phone",
            _("phone"),
            ["Phone", "mobile", "mobile phone", "tel"],
            ["手机", "电话", "手机号", "手机号码", "联系电话"],
            type="phone",
        ),
        field(
            "phone2",
            _("other phone"),
            ["Other phone", "phone 2", "phone2"],
            ["其他电话", "备用电话", "电话2"],
            type="phone",
        ),
    )


def _email_field():
    return field(
        "email", _("e-mail"), ["E-mail", "email", "mail"], ["邮箱", "电子邮件", "电子邮箱"], "email"
    )


def _notes_field():
    return field(
        "notes",
        _("notes"),
        ["Notes", "remarks", "remark", "comment"],
        ["备注", "说明"],
        type="multiline",
        max_length=10000,
    )


CUSTOMERS = Schema(
    kind=ImportKind.CUSTOMERS,
    key=("code",),
    fields=(
        field(
            "code",
            _("customer code"),
            ["Customer code", "code", "customer_id", "customer no"],
            ["客户编号", "客户代码", "客户编码", "编号"],
            required=True,
            max_length=40,
        ),
        field(
            "name",
            _("name"),
            ["Name", "customer name", "full name"],
            ["姓名", "名称", "客户名称", "客户姓名"],
            required=True,
            max_length=200,
        ),
        field(
            "kind",
            _("kind"),
            ["Kind", "type", "customer type"],
            ["类型", "客户类型"],
            "choice",
            choices=CUSTOMER_KIND,
        ),
        *_phone_fields(),
        _email_field(),
        field(
            "email2",
            _("other e-mail"),
            ["Other e-mail", "email 2", "email2"],
            ["备用邮箱", "其他邮箱"],
            "email",
        ),
        field(
            "card_number",
            _("membership card"),
            ["Membership card", "card number", "card no"],
            ["会员卡号", "会员卡", "卡号"],
            max_length=40,
        ),
        field("province", _("province"), ["Province"], ["省份", "省"], max_length=50),
        field("city", _("city"), ["City"], ["城市", "市"], max_length=50),
        field("district", _("district"), ["District"], ["区县", "区", "区/县"], max_length=50),
        field("address", _("address"), ["Address"], ["地址", "详细地址"], max_length=255),
        field(
            "birthday", _("birthday"), ["Birthday", "date of birth"], ["生日", "出生日期"], "date"
        ),
        field("gender", _("gender"), ["Gender", "sex"], ["性别"], "choice", choices=GENDER),
        field("industry", _("industry"), ["Industry"], ["行业", "所属行业"], max_length=100),
        field(
            "size",
            _("size"),
            ["Size", "company size"],
            ["规模", "企业规模"],
            "choice",
            choices=ORGANIZATION_SIZE,
        ),
        field(
            "annual_demand",
            _("declared annual demand"),
            ["Declared annual demand", "annual demand"],
            ["年需求量", "年需求"],
            "number",
            places=3,
            minimum="zero",
            limit=_DEMAND_LIMIT,
        ),
        field("demand_unit", _("demand unit"), ["Demand unit"], ["需求单位"], max_length=20),
        field(
            "source",
            _("source"),
            ["Source", "customer source"],
            ["来源", "客户来源"],
            "choice",
            choices=CUSTOMER_SOURCE,
        ),
        field(
            "status",
            _("status"),
            ["Status", "customer status"],
            ["状态", "客户状态"],
            "choice",
            choices=CUSTOMER_STATUS,
        ),
        field(
            "owner",
            _("account manager (user name)"),
            ["Account manager", "owner"],
            ["客户经理", "负责人"],
            max_length=150,
        ),
        field("team", _("team"), ["Team"], ["团队", "所属团队"], max_length=100),
        field(
            "parent",
            _("parent organization (customer code)"),
            ["Parent organization", "parent", "parent code"],
            ["上级单位", "母公司", "上级客户编号"],
            max_length=40,
        ),
        field("tags", _("tags"), ["Tags", "tag"], ["标签"], "tags"),
        field(
            "do_not_disturb",
            _("do not disturb"),
            ["Do not disturb", "DND"],
            ["免打扰", "勿扰"],
            "bool",
        ),
        _notes_field(),
    ),
)

CONTACTS = Schema(
    kind=ImportKind.CONTACTS,
    key=("customer", "name"),
    fields=(
        _customer_ref(),
        field(
            "name",
            _("contact name"),
            ["Contact name", "name", "contact"],
            ["联系人", "联系人姓名", "姓名"],
            required=True,
            max_length=100,
        ),
        field(
            "title",
            _("title"),
            ["Title", "position", "job title"],
            ["职务", "职位"],
            max_length=100,
        ),
        *_phone_fields(),
        _email_field(),
        field(
            "birthday", _("birthday"), ["Birthday", "date of birth"], ["生日", "出生日期"], "date"
        ),
        field(
            "decision_role",
            _("decision role"),
            ["Decision role", "role"],
            ["决策角色", "角色"],
            "choice",
            choices=DECISION_ROLE,
        ),
        _notes_field(),
    ),
)

PRODUCTS = Schema(
    kind=ImportKind.PRODUCTS,
    key=("sku",),
    fields=(
        field(
            "sku",
            _("SKU"),
            ["SKU", "product code", "item code"],
            ["商品编码", "商品编号", "货号", "产品编码"],
            required=True,
            max_length=60,
        ),
        field(
            "name",
            _("name"),
            ["Name", "product name", "product"],
            ["商品名称", "产品名称", "名称", "品名"],
            required=True,
            max_length=200,
        ),
        field(
            "category",
            _("category (code or name)"),
            ["Category", "category code"],
            ["分类", "类别", "商品分类", "品类"],
            max_length=100,
        ),
        field("unit", _("unit"), ["Unit"], ["单位"], max_length=20),
        field(
            "list_price",
            _("list price"),
            ["List price", "price"],
            ["标价", "价格", "售价", "零售价"],
            "number",
            required=True,
            minimum="zero",
            limit=_AMOUNT_LIMIT,
        ),
        field(
            "cost",
            _("cost"),
            ["Cost"],
            ["成本", "成本价"],
            "number",
            minimum="zero",
            limit=_AMOUNT_LIMIT,
        ),
        field(
            "role",
            _("role"),
            ["Role", "product role"],
            ["商品角色", "角色"],
            "choice",
            choices=PRODUCT_ROLE,
        ),
        field("active", _("active"), ["Active", "on sale"], ["启用", "有效", "在售"], "bool"),
    ),
)

ORDERS = Schema(
    kind=ImportKind.ORDERS,
    key=("source", "number"),
    group_key=("source", "number"),
    fields=(
        field(
            "number",
            _("order number"),
            ["Order number", "order no", "order id"],
            ["订单号", "订单编号"],
            required=True,
            max_length=60,
        ),
        field(
            "source",
            _("source system"),
            ["Source", "source system"],
            ["来源系统", "来源"],
            max_length=40,
        ),
        _customer_ref(),
        field(
            "ordered_at",
            _("ordered at"),
            ["Ordered at", "order date", "order time", "date"],
            ["下单时间", "订单日期", "下单日期", "日期"],
            "datetime",
            required=True,
        ),
        field(
            "status",
            _("status"),
            ["Status", "order status"],
            ["状态", "订单状态"],
            "choice",
            choices=ORDER_STATUS,
        ),
        field(
            "channel",
            _("channel"),
            ["Channel", "sales channel"],
            ["渠道", "销售渠道"],
            "choice",
            choices=SALES_CHANNEL,
        ),
        field("currency", _("currency"), ["Currency"], ["币种", "货币"], "currency"),
        field(
            "sku",
            _("SKU"),
            ["SKU", "product code", "item code"],
            ["商品编码", "商品编号", "货号"],
            required=True,
            max_length=60,
        ),
        field(
            "quantity",
            _("quantity"),
            ["Quantity", "qty"],
            ["数量"],
            "number",
            required=True,
            places=3,
            minimum="positive",
            limit=_QUANTITY_LIMIT,
        ),
        field(
            "unit_price",
            _("unit price"),
            ["Unit price", "price"],
            ["单价"],
            "number",
            required=True,
            minimum="zero",
            limit=_AMOUNT_LIMIT,
        ),
        field(
            "discount",
            _("discount"),
            ["Discount", "discount amount"],
            ["折扣金额", "优惠金额", "折扣"],
            "number",
            minimum="zero",
            limit=_AMOUNT_LIMIT,
        ),
        field(
            "amount",
            _("line amount (checked)"),
            ["Amount", "line amount"],
            ["金额", "小计", "行金额"],
            "number",
            limit=_AMOUNT_LIMIT * 100,
        ),
    ),
)

INTERACTIONS = Schema(
    kind=ImportKind.INTERACTIONS,
    key=("customer", "occurred_at", "channel", "subject"),
    fields=(
        _customer_ref(),
        field(
            "occurred_at",
            _("when"),
            ["Occurred at", "date", "time"],
            ["时间", "日期", "发生时间", "接触时间"],
            "datetime",
            required=True,
        ),
        field(
            "channel",
            _("channel"),
            ["Channel"],
            ["渠道", "方式", "接触方式"],
            "choice",
            required=True,
            choices=INTERACTION_CHANNEL,
        ),
        field(
            "direction",
            _("direction"),
            ["Direction"],
            ["方向", "呼入呼出"],
            "choice",
            choices=DIRECTION,
        ),
        field(
            "contact",
            _("contact name"),
            ["Contact", "contact name"],
            ["联系人"],
            max_length=100,
        ),
        field(
            "user",
            _("by (user name)"),
            ["User", "by", "staff"],
            ["员工", "经办人", "记录人"],
            max_length=150,
        ),
        field("subject", _("subject"), ["Subject"], ["主题", "标题"], max_length=200),
        field(
            "notes",
            _("notes"),
            ["Notes", "remarks", "content"],
            ["备注", "内容", "记录"],
            "multiline",
            max_length=10000,
        ),
        field("reached", _("reached"), ["Reached"], ["是否接通", "接通"], "bool"),
        field("intent", _("intent"), ["Intent"], ["意向"], "choice", choices=INTENT),
        field("outcome", _("outcome"), ["Outcome", "result"], ["结果"], max_length=255),
    ),
)

FEEDBACK = Schema(
    kind=ImportKind.FEEDBACK,
    key=("customer", "received_at", "kind"),
    fields=(
        _customer_ref(),
        field(
            "received_at",
            _("received"),
            ["Received at", "date", "time"],
            ["反馈时间", "时间", "日期", "接收时间"],
            "datetime",
            required=True,
        ),
        field(
            "kind",
            _("kind"),
            ["Kind", "type", "feedback type"],
            ["类型", "反馈类型"],
            "choice",
            required=True,
            choices=FEEDBACK_KIND,
        ),
        field("category", _("category"), ["Category"], ["类别", "分类"], max_length=100),
        field(
            "source",
            _("source"),
            ["Source"],
            ["来源", "渠道"],
            "choice",
            required=True,
            choices=FEEDBACK_SOURCE,
        ),
        field(
            "text",
            _("text"),
            ["Text", "content", "feedback"],
            ["内容", "反馈内容"],
            "multiline",
            required=True,
            max_length=10000,
        ),
        field(
            "status",
            _("status"),
            ["Status"],
            ["状态", "处理状态"],
            "choice",
            choices=FEEDBACK_STATUS,
        ),
        field(
            "user",
            _("recorded by (user name)"),
            ["Recorded by", "user"],
            ["记录人", "员工"],
            max_length=150,
        ),
    ),
)

SCHEMAS: dict[str, Schema] = {
    schema.kind: schema
    for schema in (CUSTOMERS, CONTACTS, PRODUCTS, ORDERS, INTERACTIONS, FEEDBACK)
}


def schema_for(kind: str) -> Schema:
    """The schema of an ImportKind value."""
    return SCHEMAS[kind]
