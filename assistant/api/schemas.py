"""API contract (pydantic v2), separate from internal records.

Field names are the contract: fields may be added, never renamed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.textutil import is_blank

Strength = Literal["shall", "should", "may", "shall-not", "none"]


def _not_blank(v: str) -> str:
    if is_blank(v):  # also a text of only zero-width / format characters
        raise ValueError("不能为空白 (must not be blank)")
    return v


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doc_ids: list[str] = Field(default_factory=list, max_length=20, description="文件编号 doc_id")
    roles: list[str] = Field(default_factory=list, max_length=20, description="角色，见 GET /v1/roles")
    phases: list[str] = Field(default_factory=list, max_length=20, description="阶段，见 GET /v1/phases")
    strengths: list[Strength] = Field(default_factory=list, max_length=5, description="条款强度")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"query": "品牌出海怎么做", "top_k": 5, "filters": {"doc_ids": ["gxas-1220-2026"]}}]})
    query: str = Field(..., min_length=1, description="检索内容 (query text)")
    top_k: int = Field(10, ge=1, le=50)
    filters: Filters = Field(default_factory=Filters)

    _blank = field_validator("query")(_not_blank)


class SearchHit(BaseModel):
    doc_id: str
    doc_code: str
    doc_title: str
    clause: str = Field(..., description="条款标号，如 6.4.4 b)")
    title: str
    heading_path: str
    text: str
    strength: Strength
    roles: list[str]
    phases: list[str]
    score: float
    matched_items: list[str] = Field(default_factory=list, description="同一条款下命中的列项")


class SearchResponse(BaseModel):
    query: str
    hits: list[SearchHit]


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"question": "行业社会组织在成长扩张期要做什么？"},
                     {"question": "那更新升级期呢？", "session_id": "<上一轮返回的 session_id>"},
                     {"question": "申报试点要什么条件？", "doc_ids": ["miit-pilot-guide"]}]})
    question: str = Field(..., min_length=1, description="问题 (question)")
    role: str | None = Field(None, description="角色，见 GET /v1/roles")
    phase: str | None = Field(None, description="阶段，见 GET /v1/phases")
    doc_ids: list[str] | None = Field(None, max_length=20)
    session_id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                   description="继续已有会话（追问）：须是本密钥此前答复中返回的 session_id；"
                                               "会话编号只由服务端生成，未知编号返回 404")

    _blank = field_validator("question")(_not_blank)


class CitationOut(BaseModel):
    doc_id: str
    doc_code: str
    doc_title: str
    clause: str
    quote: str = Field(..., description="条款原文（逐字）")
    strength: Strength
    cite: str = Field(..., description="可直接粘贴的引用，如〔T/GXAS 1220—2026 6.4.4 b)〕")
    heading_path: str = ""


class PointOut(BaseModel):
    citation: CitationOut
    items: list["PointOut"] = Field(default_factory=list, description="该条款下被引用的列项")
    context: str = Field("", description="条款所在章节的标题（不是引文）")
    note: str = Field("", description="如“常设职责”")


Coverage = Literal["answered", "partial", "none"]


class UnfilteredOut(BaseModel):
    message: str = Field(..., description="筛选的结果说明，如“在所选文件（T/GXAS 1220—2026）中未找到明确规定；在全部文件中有：”")
    coverage: Coverage
    direct: str = Field("", description="不加筛选时的直接答复")
    citations: list[CitationOut] = Field(default_factory=list, description="不加筛选时答复要点的引用（至多 3 条）")
    filters: dict = Field(default_factory=dict, description="本次请求的筛选：doc_ids、role、phase")


class AskResponse(BaseModel):
    answer: str = Field(..., description="纯文本答复（可直接粘贴进公文：直接答复、带引用的要点、其他文件的相关规定）")
    supported: bool = Field(..., description="true 仅当 coverage = answered")
    coverage: Coverage = Field("answered", description="answered：文件写明了所问内容；partial：文件涉及该主题，"
                               "但不能断定写明了所问内容（missing 说明缺什么，或请核对所列条款）；none：文件中没有相关规定")
    missing: list[str] = Field(default_factory=list, description="所问但文件没有写明的内容，如“由哪个部门或单位负责”")
    direct: str = Field("", description="一段话的直接答复")
    points: list[PointOut] = Field(default_factory=list, description="答复要点（按显示顺序），每点带引用")
    citations: list[CitationOut]
    session_id: str
    turn: int
    related: list[CitationOut] = Field(default_factory=list, description="其他文件的相关规定")
    other_items: list[CitationOut] = Field(default_factory=list, description="同条其他要求（界面中折叠显示）")
    nearest_topics: list[str] = Field(default_factory=list)
    strength: Strength | None = Field(None, description="问“是否强制”时：所问条款的强度")
    force: str = Field("", description="问“是否强制”时：该文件的效力（团体标准、征求意见稿、部门政策文件）")
    markdown: str = Field("", description="同一答复的 Markdown 版本（界面用）")
    confidence: float | None = Field(None, description="证据判定的概率（answered 的依据）")
    mode: str
    effective_question: str
    notes: list[str] = Field(default_factory=list)
    stored: bool = Field(True, description="false = 会话存储暂不可用：已作答，但本轮未保存，不能据此追问或反馈"
                                           "（session_id 为空或 turn 为 0 时同理）")
    curated: str = Field("", description="本答复采用的管理员纠正（问题 → 条款）的编号；空 = 未采用")
    unfiltered: UnfilteredOut | None = Field(
        None, description="请求带筛选（doc_ids、role、phase）而所得答复不完整时：不加筛选的答复更好，则在此给出其摘要")


class DocumentOut(BaseModel):
    doc_id: str
    code: str
    title: str
    kind: str
    issuer: str
    units: int
    nature: str = Field("", description="group-standard / national-standard-draft / ministry-notice")
    status: str = Field("", description="现行、征求意见稿……（空：未注明）")
    force: str = Field("", description="该类文件的效力说明")
    published: str = ""
    effective: str = ""
    format: str = Field("", description="文件来源格式：pdf、docx、html、txt、md（documents add 添加的文件）")
    source: str = Field("", description="保存的原始文件（corpus/ 下的相对路径）")
    added: str = Field("", description="添加时间")
    vectors_pending: bool = Field(False, description="语义向量仍在后台计算：此前该文件只按关键词检索")


class IngestUnit(BaseModel):
    label: str
    kind: str
    title: str | None = None
    text: str
    strength: Strength
    parent: str | None = None


class IngestReport(BaseModel):
    """解析报告：上传文件解析出的条款树（dry_run 时不写入任何内容）。"""

    doc_id: str
    code: str
    title: str
    nature: str
    kind: str
    issuer: str = ""
    format: str
    file: str
    pages: int | None
    ocr: bool
    ocr_engine: str | None = None
    ocr_confidence: float | None = None
    units: list[IngestUnit]
    by_kind: dict[str, int]
    by_strength: dict[str, int]
    warnings: list[str]
    unplaced: list[dict]
    dry_run: bool = True
    added: bool = False
    replaced: bool = False
    index: dict | None = Field(None, description="索引更新：本次嵌入的条款数、用时；dense_pending："
                                                 "语义向量在后台计算中的文件及其条款数（完成前按关键词检索）")


class RemoveResponse(BaseModel):
    doc_id: str
    removed: bool
    index: dict


class ClauseOut(BaseModel):
    doc_id: str
    clause: str
    kind: str
    title: str | None
    text: str
    heading_path: str
    parent: str | None
    children: list[str]
    strength: Strength
    roles: list[str]
    phases: list[str]
    line_start: int
    line_end: int


class DocumentDetail(DocumentOut):
    chapters: list[ClauseOut]


class ClauseDetail(ClauseOut):
    cite: str
    full_text: str
    children_units: list[ClauseOut]


class VocabItem(BaseModel):
    id: str
    description: str = ""
    synonyms: list[str]
    scheme: str | None = None


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"session_id": "abc123", "turn": 1, "rating": 1, "comment": "引用准确"}]})
    session_id: str = Field(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    turn: int = Field(..., ge=1, le=100000)
    rating: Literal[-1, 1] = Field(..., description="1 = 👍, -1 = 👎")
    comment: str = Field("", max_length=2000)


class FeedbackResponse(BaseModel):
    id: int
    stored: bool = True


class ErrorResponse(BaseModel):
    detail: str = Field(..., description="中文错误说明")
    code: str
    request_id: str = ""
    valid: list[str] | None = None
    near: list[str] | None = None


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"type": "summary", "form": {"单位": "示例市陶瓷产业集群区域品牌建设试点工作领导小组办公室",
                                                  "主导产业": "日用陶瓷", "状态": {"区域品牌集体商标": "正在申请"},
                                                  "说明": {"四、": "成立陶瓷产业联盟作为区域品牌管理机构。"}}}]})
    type: Literal["summary", "experience", "application"] = Field(
        ..., description="summary = 试点工作总结报告；experience = 典型经验；application = 评价申请书")
    form: dict = Field(..., description="表单：单位、主导产业、状态、指标、说明、典型经验、申请表（见 docs/sample_form.toml）")


class ReportCheck(BaseModel):
    level: Literal["ok", "warning", "error"]
    field: str = Field(..., description="表单字段路径，如 状态.区域品牌集体商标、说明.五、（三）")
    message: str
    kind: Literal["conflict", "structure", "length", "gap"] = Field(
        "structure", description="conflict 前后矛盾（排在最前）、structure 结构、length 字数、gap 待补充")
    label: str = Field("", description="字段的中文名称，如 五、（三）技术水平")


class ReportResponse(BaseModel):
    type: str
    title: str
    unit: str
    markdown: str = Field(..., description="草稿正文（Markdown）：只含申报单位提交的内容，不含要求、评分和引用")
    checklist_markdown: str = Field("", description="检查清单（Markdown）：检查结果，逐部分的原文要求、评分项与可引用条款（含引用）")
    checks: list[ReportCheck] = Field(..., description="检查结果：前后矛盾在前，然后是结构、字数，最后是待补充")
    citations: list[CitationOut]
    blocks: list[dict] = Field(default_factory=list, description="结构化草稿：标题、段落、表格，以及检查清单用的要求、评分、可引用条款")


# --- admin (BA_ADMIN_KEYS) ----------------------------------------------------------------

class AdminTurn(BaseModel):
    session_id: str
    turn: int
    question: str
    status: str = Field(..., description="answered / pending / failed")
    created_at: str
    coverage: str = ""
    direct: str = ""
    answer: str = Field("", description="纯文本答复")
    citations: list[str] = Field(default_factory=list, description="答复的引用，如〔T/GXAS 1220—2026 6.4.4 b)〕")
    units: list[list[str]] = Field(default_factory=list, description="答复引用的条款：[[doc_id, 条款标号], …]")
    request: dict = Field(default_factory=dict, description="提问时的筛选：role、phase、doc_ids")
    rating: int | None = Field(None, description="最近一次反馈：1 = 👍，-1 = 👎，空 = 无反馈")
    comment: str = ""
    feedback_at: str = ""
    curated: str = Field("", description="答复采用的纠正编号")


class CuratedUnit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doc_id: str = Field(..., min_length=1, max_length=64)
    clause: str = Field(..., min_length=1, max_length=100, description="条款标号，如 6.4.4 b)")


class CuratedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"question": "典型经验字数要求", "units": [{"doc_id": "miit-pilot-evaluation", "clause": "附件3 二、"}],
                      "note": "答复引用了无关条款", "session_id": "abc123", "turn": 1}]})
    question: str = Field(..., min_length=1, max_length=500, description="问题（通常是用户原问题）")
    units: list[CuratedUnit] = Field(..., min_length=1, max_length=8, description="回答该问题的条款（按显示顺序）")
    note: str = Field("", max_length=500)
    session_id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="来自哪一轮对话（可选）")
    turn: int | None = Field(None, ge=1, le=100000)

    _blank = field_validator("question")(_not_blank)


class CuratedPairOut(BaseModel):
    id: str
    question: str
    units: list[list[str]] = Field(..., description="[[doc_id, 条款标号], …]")
    cites: list[str] = Field(default_factory=list, description="可粘贴的引用")
    note: str = ""
    created_at: str = ""
    source: dict = Field(default_factory=dict)
    author: str = ""
    file: str = Field("", description="所在文件（corpus/curated/ 下）")


class CuratedList(BaseModel):
    pairs: list[CuratedPairOut]
    problems: list[dict] = Field(default_factory=list, description="未能加载的行：文件、行号、原因（如条款已不存在）")
    directory: str = ""
