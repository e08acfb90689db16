/* The widget's chat: asks /v1/ask with the widget key and renders the answer from its
   structure (direct answer, cited points, collapsed details); a citation opens its clause.
   Text from the documents or the user is only ever set as textContent. */
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var KEY = params.get("key") || "";
  var sessionId = null;
  var busy = false;
  var $ = function (id) { return document.getElementById(id); };
  var log = $("wg-log"), input = $("wg-input"), send = $("wg-send"), form = $("wg-form");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function headers(json) {
    var h = {};
    if (KEY) h["X-API-Key"] = KEY;
    if (json) h["Content-Type"] = "application/json";
    return h;
  }

  function call(method, path, body) {
    return fetch(path, {method: method, headers: headers(!!body), body: body ? JSON.stringify(body) : undefined,
                        credentials: "omit"})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (d) {
          if (!r.ok) {
            var msg = d && d.detail ? d.detail : "问答服务暂时无法访问（" + r.status + "），请稍后重试。";
            throw new Error(msg);
          }
          return d;
        });
      }, function () { throw new Error("无法连接问答服务，请检查网络后重试。"); });
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function citeLink(c) {
    var a = el("a", "wg-cite", c.cite);
    a.href = "#clause=" + encodeURIComponent(c.doc_id) + "|" + encodeURIComponent(c.clause);
    a.title = "查看条款原文";
    a.addEventListener("click", function (ev) { ev.preventDefault(); openClause(c); });
    return a;
  }

  function pointItem(p) {
    var li = el("li");
    if (p.context) li.appendChild(el("span", "wg-ctx", p.context));
    li.appendChild(document.createTextNode(p.citation.quote.replace(/\n/g, " ")));
    li.appendChild(citeLink(p.citation));
    if (p.note) li.appendChild(el("span", "wg-note", "（" + p.note + "）"));
    if (p.items && p.items.length) {
      var ul = el("ul");
      p.items.forEach(function (it) {
        var sub = el("li");
        sub.appendChild(document.createTextNode(it.citation.quote.replace(/\n/g, " ")));
        sub.appendChild(citeLink(it.citation));
        ul.appendChild(sub);
      });
      li.appendChild(ul);
    }
    return li;
  }

  function more(title, cites) {
    var d = el("details", "wg-more");
    d.appendChild(el("summary", null, title + "（" + cites.length + " 条）"));
    var ul = el("ul");
    cites.forEach(function (c) {
      var li = el("li");
      var q = c.quote.replace(/\n/g, " ");
      li.appendChild(document.createTextNode(q.length > 80 ? q.slice(0, 80) + "…" : q));
      li.appendChild(citeLink(c));
      ul.appendChild(li);
    });
    d.appendChild(ul);
    return d;
  }

  function copy(text, note) {
    function done() { note.textContent = "已复制"; setTimeout(function () { note.textContent = ""; }, 2000); }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else { fallback(); }
    function fallback() {
      var t = el("textarea");
      t.value = text; t.setAttribute("readonly", ""); t.style.position = "fixed"; t.style.opacity = "0";
      document.body.appendChild(t); t.select();
      try { document.execCommand("copy"); done(); } catch (e) { note.textContent = "请手动选择文字复制"; }
      document.body.removeChild(t);
    }
  }

  function renderAnswer(a) {
    var box = el("div", "wg-msg wg-bot");
    box.setAttribute("data-coverage", a.coverage);
    if (a.coverage === "none") box.appendChild(el("div", "wg-banner wg-none", "无依据：现有文件中没有找到相关规定。"));
    else if (a.coverage === "partial") {
      box.appendChild(el("div", "wg-banner wg-partial", a.missing && a.missing.length
        ? "部分依据：现有文件没有写明" + a.missing.join("、") + "。"
        : "部分依据：以下规定与问题最相关，请核对。"));
    }
    if (a.direct) box.appendChild(el("p", "wg-direct", a.direct));
    if (a.points && a.points.length) {
      var ol = el("ol", "wg-points");
      a.points.forEach(function (p) { ol.appendChild(pointItem(p)); });
      box.appendChild(ol);
    }
    if (a.other_items && a.other_items.length) box.appendChild(more("同条其他要求", a.other_items));
    if (a.related && a.related.length) box.appendChild(more("其他文件的相关规定", a.related));
    if (a.coverage === "none" && a.nearest_topics && a.nearest_topics.length) {
      var d = el("details", "wg-more");
      d.open = true;
      d.appendChild(el("summary", null, "文件中相近的内容"));
      var ul = el("ul");
      a.nearest_topics.forEach(function (t) { ul.appendChild(el("li", null, t)); });
      d.appendChild(ul);
      box.appendChild(d);
    }
    var actions = el("div", "wg-actions");
    var btn = el("button", null, "复制答复");
    btn.type = "button";
    var note = el("span");
    btn.addEventListener("click", function () { copy(a.answer, note); });
    actions.appendChild(btn);
    actions.appendChild(note);
    box.appendChild(actions);
    return box;
  }

  function ask(q) {
    q = (q || "").trim();
    if (!q || busy) return;
    busy = true; send.disabled = true;
    var intro = $("wg-intro");
    if (intro) intro.remove();
    var user = el("div", "wg-msg wg-user");
    user.appendChild(el("span", null, q));
    log.appendChild(user);
    var wait = el("div", "wg-msg wg-bot", "正在检索并核验条款……");
    log.appendChild(wait);
    scrollDown();
    var body = {question: q};
    if (sessionId) body.session_id = sessionId;
    call("POST", "v1/ask", body).then(function (a) {
      if (a.session_id) sessionId = a.session_id;
      log.replaceChild(renderAnswer(a), wait);
      input.value = "";
    }, function (err) {
      var box = el("div", "wg-msg wg-bot");
      box.appendChild(el("div", "wg-banner wg-error-msg", err.message));
      log.replaceChild(box, wait);
      input.value = q;  // what the user typed is kept
    }).then(function () { busy = false; send.disabled = false; scrollDown(); input.focus(); });
  }

  function markQuote(target, text, quote) {
    target.textContent = "";
    var parts = (quote || "").split("……").map(function (s) { return s.trim(); }).filter(Boolean);
    var i = 0;
    parts.forEach(function (p) {
      var at = text.indexOf(p, i);
      if (at < 0) return;
      target.appendChild(document.createTextNode(text.slice(i, at)));
      target.appendChild(el("mark", null, p));
      i = at + p.length;
    });
    target.appendChild(document.createTextNode(text.slice(i)));
  }

  function openClause(c) {
    var panel = $("wg-clause");
    $("wg-clause-cite").textContent = c.cite;
    $("wg-clause-path").textContent = c.heading_path || c.doc_title || "";
    $("wg-clause-text").textContent = "正在加载条款……";
    panel.hidden = false; log.hidden = true; form.hidden = true;
    call("GET", "v1/documents/" + encodeURIComponent(c.doc_id) + "/clauses?label=" + encodeURIComponent(c.clause))
      .then(function (u) {
        $("wg-clause-path").textContent = "《" + (c.doc_title || "") + "》" + (u.heading_path ? "  " + u.heading_path : "");
        markQuote($("wg-clause-text"), u.full_text || u.text || "", c.quote);
      }, function (err) { $("wg-clause-text").textContent = err.message; });
  }

  function closeClause() { $("wg-clause").hidden = true; log.hidden = false; form.hidden = false; scrollDown(); }

  form.addEventListener("submit", function (ev) { ev.preventDefault(); ask(input.value); });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); ask(input.value); }
  });
  Array.prototype.forEach.call(document.querySelectorAll(".wg-chip"), function (b) {
    b.addEventListener("click", function () { ask(b.textContent); });
  });
  $("wg-back").addEventListener("click", closeClause);
  $("wg-close").addEventListener("click", function () {
    if (window.parent !== window) window.parent.postMessage({type: "brand-assistant-widget", action: "close"}, "*");
  });
  if (window.parent === window) $("wg-close").hidden = true;
})();
