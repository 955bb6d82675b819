"""Receiving an upload over HTTP: a ``multipart/form-data`` body streamed to disk as it arrives.

FastAPI's ``UploadFile`` reads the whole body (spooling it to a temporary file) before the endpoint
runs, so a size cap could only be checked after the fact. Here the body is parsed chunk by chunk
with python-multipart's streaming parser: the ``file`` part goes straight to a file under the
dataset directory's ``tmp/`` (hashed while it is written), the small text fields stay in memory
(each at most :data:`MAX_FIELD_BYTES`), and the upload is refused (413) the moment it passes
``max_upload_bytes``, leaving nothing behind.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from fastapi import Request
from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from govshare.core import refs
from govshare.core.errors import DomainError, InvalidInput
from govshare.exchange.config import get_exchange_settings
from govshare.exchange.datasets import storage

#: Text fields that may accompany the file, and the longest accepted.
FIELDS = ("changed_at", "note", "format")
MAX_FIELD_BYTES = 8192
#: Room for the multipart framing and text fields around the file.
MULTIPART_SLACK = 64 * 1024
_FLUSH_BYTES = 1 << 20

#: The request body as the OpenAPI description shows it.
OPENAPI_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "数据文件：.csv（UTF-8 或 GBK）、.jsonl、.parquet、.xlsx / the data file",
                    },
                    "changed_at": {
                        "type": "string",
                        "format": "date-time",
                        "description": "数据变更时间（省略为上传时间）/ when the data changed (Art 15(2))",
                    },
                    "note": {"type": "string", "maxLength": 2000, "description": "本版本说明 / note"},
                    "format": {
                        "type": "string",
                        "enum": ["csv", "jsonl", "parquet", "xlsx"],
                        "description": "格式（省略时按文件名判断）/ format, else from the file name",
                    },
                },
            }
        }
    },
}


@dataclasses.dataclass(slots=True)
class Received:
    path: Path
    filename: str
    bytes: int
    sha256: str
    fields: dict[str, str]


def too_large(limit: int) -> DomainError:
    return DomainError(
        "exchange.dataset.too_large",
        "上传的文件过大",
        "The upload is too large",
        status=413,
        field="file",
        detail=f"不能超过 {limit} 字节 / must not exceed {limit} bytes",
        extra={"max_bytes": limit},
    )


def _bad(zh: str, en: str, field: str = "body") -> InvalidInput:
    return InvalidInput("exchange.upload.malformed", f"上传格式有误：{zh}", f"Malformed upload: {en}", field=field)


class _Sink:
    """Callbacks of the multipart parser: one part at a time, the file part to disk."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit
        self.file: Any = None
        self.filename: str | None = None
        self.size = 0
        self.hash = hashlib.sha256()
        self.fields: dict[str, str] = {}
        self.pending = bytearray()
        self.error: DomainError | None = None
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._name: str | None = None
        self._is_file = False
        self._buffer = bytearray()

    # Header parsing.
    def on_part_begin(self) -> None:
        self._headers, self._name, self._is_file = {}, None, False
        self._buffer = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_field, self._header_value = bytearray(), bytearray()

    def on_headers_finished(self) -> None:
        disposition, params = parse_options_header(self._headers.get("content-disposition", b"").decode("latin-1"))
        if disposition != b"form-data" or b"name" not in params:
            self.error = self.error or _bad(
                "每个部分须有 Content-Disposition: form-data; name=...",
                "every part needs Content-Disposition: form-data; name=...",
            )
            return
        self._name = params[b"name"].decode("utf-8", "replace")
        if self._name == "file":
            if self.file is not None or self.filename is not None:
                self.error = self.error or _bad("只能上传一个文件", "only one file per upload", "file")
                return
            raw = params.get(b"filename", b"")
            # Browsers send the name as UTF-8 in the quoted string; the header was decoded as latin-1.
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError:
                name = raw.decode("latin-1")
            self.filename = Path(name.replace("\\", "/")).name.strip() or "upload"
            self._is_file = True
            self.file = self.path.open("wb")
        elif self._name not in FIELDS:
            self.error = self.error or _bad(f"未知字段 {self._name}", f"unknown field {self._name}", self._name)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._is_file:
            self.size += len(chunk)
            if self.size > self.limit:
                self.error = self.error or too_large(self.limit)
                return
            self.hash.update(chunk)
            self.pending += chunk
        elif self._name in FIELDS:
            self._buffer += chunk
            if len(self._buffer) > MAX_FIELD_BYTES:
                self.error = self.error or _bad(
                    f"字段 {self._name} 过长", f"field {self._name} is too long", self._name
                )

    def on_part_end(self) -> None:
        if self._name in FIELDS and not self._is_file:
            try:
                self.fields[self._name] = self._buffer.decode("utf-8")
            except UnicodeDecodeError:
                self.error = self.error or _bad(
                    f"字段 {self._name} 须为 UTF-8 文本", f"field {self._name} must be UTF-8 text", self._name
                )
        self._is_file = False

    def callbacks(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in (
                "on_part_begin",
                "on_header_field",
                "on_header_value",
                "on_header_end",
                "on_headers_finished",
                "on_part_data",
                "on_part_end",
            )
        }


async def receive(request: Request) -> Received:
    """Stream the multipart body to a temporary file. The caller removes ``Received.path``."""
    limit = get_exchange_settings().max_upload_bytes
    declared = refs.ascii_int(request.headers.get("content-length"))
    if declared is not None and declared > limit + MULTIPART_SLACK:
        raise too_large(limit)  # the body is never read
    ctype, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise DomainError(
            "exchange.upload.content_type",
            "请以 multipart/form-data 上传文件",
            "Upload the file as multipart/form-data",
            status=415,
            field="body",
        )
    path = storage.tmp_path(".upload")
    sink = _Sink(path, limit)
    try:
        parser = MultipartParser(boundary, sink.callbacks())  # type: ignore[arg-type]
        async for chunk in request.stream():
            try:
                parser.write(chunk)
            except MultipartParseError:
                raise _bad("multipart 内容无法解析", "the multipart body cannot be parsed") from None
            if sink.error:
                raise sink.error
            if len(sink.pending) >= _FLUSH_BYTES:
                data, sink.pending = bytes(sink.pending), bytearray()
                await run_in_threadpool(sink.file.write, data)
        try:
            parser.finalize()
        except MultipartParseError:
            raise _bad("multipart 内容不完整", "the multipart body is incomplete") from None
        if sink.error:
            raise sink.error
        if sink.file is None:
            raise InvalidInput(
                "exchange.upload.file_required",
                "请上传数据文件（字段 file）",
                "Upload the data file (field 'file')",
                field="file",
            )
        if sink.pending:
            await run_in_threadpool(sink.file.write, bytes(sink.pending))
        sink.file.close()
        return Received(path, sink.filename or "upload", sink.size, sink.hash.hexdigest(), sink.fields)
    except BaseException:
        if sink.file is not None:
            sink.file.close()
        path.unlink(missing_ok=True)
        raise
