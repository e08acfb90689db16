/* 区域品牌培育问答 — embed code for other portals:
     <script src="https://问答服务地址/widget.js" data-key="挂件密钥" async></script>
   Options (attributes of the script tag):
     data-key     the widget key (BA_WIDGET_KEYS), required
     data-target  a CSS selector: show the chat inline in that element instead of a floating button
     data-label   the floating button's text (default 标准问答)
     data-open    "true": open the floating chat at once
   No dependencies; the chat itself runs in an iframe served by the question-answering service. */
(function () {
  "use strict";
  var me = document.currentScript || (function () {
    var all = document.querySelectorAll("script[src*='widget.js']");
    return all[all.length - 1];
  })();
  if (!me) return;
  var base = me.src.replace(/widget\.js(\?.*)?$/, "");
  var key = me.getAttribute("data-key") || "";
  var src = base + "widget" + (key ? "?key=" + encodeURIComponent(key) : "");

  function frame(height) {
    var f = document.createElement("iframe");
    f.src = src;
    f.title = "区域品牌培育问答";
    f.setAttribute("data-brand-assistant", "widget");
    f.style.cssText = "border:0;width:100%;height:" + height + ";display:block;background:#fff;";
    return f;
  }

  // A site that is not on the key's list would see the browser's blank "refused to connect"
  // frame (CSP frame-ancestors): ask the API first (CORS allows only the listed sites) and
  // say in Chinese why the chat is not shown.
  function refusal(height) {
    var d = document.createElement("div");
    d.setAttribute("data-brand-assistant", "refused");
    d.style.cssText = "box-sizing:border-box;height:" + height + ";padding:24px;font:15px/1.7 sans-serif;" +
      "color:#444;background:#fafafa;";
    d.textContent = "问答挂件无法在本网站显示：本网站未登记该挂件密钥，或问答服务暂时无法连接。请联系本网站管理员。";
    return d;
  }
  function mountInto(parent, height) {
    fetch(base + "v1/roles", {headers: {"X-API-Key": key}, credentials: "omit"}).then(function (r) {
      parent.appendChild(r.ok ? frame(height) : refusal(height));
    }, function () {
      parent.appendChild(refusal(height));
    });
  }

  var target = me.getAttribute("data-target");
  if (target) {
    var host = document.querySelector(target);
    if (host) mountInto(host, host.getAttribute("data-height") || "600px");
    return;
  }

  var panel = document.createElement("div");
  panel.setAttribute("data-brand-assistant", "panel");
  panel.style.cssText = "position:fixed;right:16px;bottom:76px;width:380px;max-width:calc(100vw - 24px);" +
    "height:560px;max-height:calc(100vh - 100px);box-shadow:0 6px 24px rgba(0,0,0,.18);border-radius:10px;" +
    "overflow:hidden;z-index:2147483000;display:none;background:#fff;";
  var button = document.createElement("button");
  button.type = "button";
  button.setAttribute("data-brand-assistant", "button");
  button.textContent = me.getAttribute("data-label") || "标准问答";
  button.style.cssText = "position:fixed;right:16px;bottom:16px;z-index:2147483001;background:#a61d24;color:#fff;" +
    "border:0;border-radius:22px;padding:10px 18px;font-size:15px;cursor:pointer;box-shadow:0 2px 10px rgba(0,0,0,.2);";
  var loaded = false;
  function toggle(open) {
    if (open && !loaded) { mountInto(panel, "100%"); loaded = true; }
    panel.style.display = open ? "block" : "none";
    button.textContent = open ? "收起问答" : (me.getAttribute("data-label") || "标准问答");
  }
  button.addEventListener("click", function () { toggle(panel.style.display === "none"); });
  window.addEventListener("message", function (ev) {
    if (base.indexOf(ev.origin) === 0 && ev.data && ev.data.type === "brand-assistant-widget" && ev.data.action === "close") {
      toggle(false);
    }
  });
  function mount() {
    document.body.appendChild(panel);
    document.body.appendChild(button);
    if (me.getAttribute("data-open") === "true") toggle(true);
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
