"""The embeddable widget: a small chat page other government portals put on their sites.

- `GET /widget.js`: the one tag a portal adds,
  `<script src="https://问答服务/widget.js" data-key="挂件密钥" async></script>`; it opens
  `/widget` in an iframe (a floating 问答 button, or inline in `data-target`).
- `GET /widget?key=…`: the chat page itself (HTML, CSS and JS from this package, no other
  dependency, nothing from a CDN). It calls /v1/ask and, for a citation, the clause itself
  (/v1/documents/…/clauses) with the widget key.

A widget key (BA_WIDGET_KEYS, JSON {key: [origins]}) may only ask and search, and only the
listed sites may frame the page: `Content-Security-Policy: frame-ancestors` carries the
key's origins, so a browser refuses to show the widget inside any other site. The API
checks the Origin of requests made with the key (deps.check_widget_origin). A full API
key or an admin key is refused here: a key written into a public page is public.
"""

from __future__ import annotations

import html
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from assistant.api.deps import match_key

widget_router = APIRouter(tags=["网页挂件 widget"])
STATIC = files("assistant.api") / "static"
SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _asset(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def _page(title: str, body: str, status: int, frame_ancestors: str = "'none'") -> HTMLResponse:
    csp = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
           f"base-uri 'none'; form-action 'none'; frame-ancestors {frame_ancestors}")
    return HTMLResponse(body, status_code=status, headers={**SECURITY, "Content-Security-Policy": csp})


def _error_page(message: str, status: int) -> HTMLResponse:
    body = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>问答挂件</title>'
            f'<link rel="stylesheet" href="widget/app.css"></head><body><main class="wg-error">'
            f'<p>{html.escape(message)}</p></main></body></html>')
    return _page("问答挂件", body, status)


@widget_router.get("/widget", response_class=HTMLResponse, summary="网页挂件（聊天页，供 iframe 嵌入）")
async def widget(request: Request, key: str | None = None) -> HTMLResponse:
    settings = request.app.state.settings
    if key:
        if match_key(key, settings.api_key_list + settings.admin_key_list):
            return _error_page("这是完整权限的 API 密钥，不能写进网页。请使用挂件专用密钥（BA_WIDGET_KEYS）。", 403)
        found = match_key(key, list(settings.widget_keys))
        if found is None:
            return _error_page("挂件密钥无效，请联系问答服务的管理员。", 401)
        origins = settings.widget_keys[found]
    elif settings.open_mode and not settings.api_key_list:
        origins = sorted(set(settings.widget_origin_list) | set(settings.cors_origin_list))  # local, single user
    else:
        return _error_page("缺少挂件密钥：请在嵌入代码中填写 data-key。", 401)
    page = _asset("widget.html").replace("{{TITLE}}", html.escape(settings.widget_title))
    return _page(settings.widget_title, page, 200, " ".join(["'self'", *origins]))


@widget_router.get("/widget/app.js", include_in_schema=False)
async def widget_app_js() -> Response:
    return Response(_asset("widget-app.js"), media_type="text/javascript; charset=utf-8",
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"})


@widget_router.get("/widget/app.css", include_in_schema=False)
async def widget_app_css() -> Response:
    return Response(_asset("widget.css"), media_type="text/css; charset=utf-8",
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"})


@widget_router.get("/widget.js", summary="嵌入代码：<script src=\".../widget.js\" data-key=\"挂件密钥\" async></script>")
async def widget_loader() -> Response:
    return Response(_asset("widget-loader.js"), media_type="text/javascript; charset=utf-8",
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300",
                             "Cross-Origin-Resource-Policy": "cross-origin"})
