// The web chat page: streams answers from /v1/chat/completions (server-sent events) over a
// multi-turn conversation, with a stop button, the model's name and the decode speed.
#include "server/web_page.h"

namespace trapetum::server {

const char* web_page_html() {
  return R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>trapetum chat</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f6f5f0;color:#222;display:flex;flex-direction:column;height:100vh}
header{padding:.6em 1em;background:#3d4a2a;color:#f6f5f0;display:flex;gap:1em;align-items:baseline}
header h1{font-size:1.1em;margin:0}#model{opacity:.8}#speed{margin-left:auto;font-variant-numeric:tabular-nums}
#log{flex:1;overflow-y:auto;padding:1em}.msg{max-width:48em;margin:.4em 0;padding:.5em .8em;border-radius:.5em;white-space:pre-wrap}
.user{background:#dfe6cf;margin-left:auto}.assistant{background:#fff;border:1px solid #ddd}.error{background:#f6d5d5}
form{display:flex;gap:.5em;padding:.8em;border-top:1px solid #ccc;background:#fff}
textarea{flex:1;font:inherit;padding:.4em;resize:vertical;min-height:2.5em}button{font:inherit;padding:.4em 1em}
</style></head><body>
<header><h1>trapetum</h1><span id="model">…</span><span id="speed"></span></header>
<div id="log"></div>
<form id="form"><textarea id="input" placeholder="Message (Enter sends, Shift+Enter for a new line)"></textarea>
<button id="send" type="submit">Send</button><button id="stop" type="button" disabled>Stop</button>
<button id="reset" type="button">New chat</button></form>
<script>
const log = document.getElementById('log'), input = document.getElementById('input');
const send = document.getElementById('send'), stop = document.getElementById('stop');
// Options in the URL's fragment: #key=API_KEY&max_tokens=N (default 1024 per answer).
const params = new URLSearchParams(location.hash.slice(1));
const key = params.get('key'), maxTokens = parseInt(params.get('max_tokens') || '1024', 10);
const headers = {'Content-Type': 'application/json'};
if (key) headers['Authorization'] = 'Bearer ' + key;
let messages = [], controller = null, model = '';
fetch('/v1/models', {headers}).then(r => r.json()).then(j => {
  model = j.data[0].id; document.getElementById('model').textContent = model;
}).catch(() => { document.getElementById('model').textContent = '(models unavailable)'; });
function bubble(cls, text) {
  const d = document.createElement('div'); d.className = 'msg ' + cls; d.textContent = text;
  log.appendChild(d); log.scrollTop = log.scrollHeight; return d;
}
async function ask(text) {
  messages.push({role: 'user', content: text}); bubble('user', text);
  const out = bubble('assistant', ''); controller = new AbortController();
  send.disabled = true; stop.disabled = false;
  let answer = '', chunks = 0, t0 = 0;
  try {
    const r = await fetch('/v1/chat/completions', {method: 'POST', headers, signal: controller.signal,
      body: JSON.stringify({model, messages, stream: true, max_tokens: maxTokens})});
    if (!r.ok) { const j = await r.json(); throw new Error(j.error ? j.error.message : r.statusText); }
    const reader = r.body.getReader(), dec = new TextDecoder(); let buf = '';
    for (;;) {
      const {value, done} = await reader.read(); if (done) break;
      buf += dec.decode(value, {stream: true});
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const line = buf.slice(0, i).trim(); buf = buf.slice(i + 2);
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim(); if (data === '[DONE]') continue;
        const j = JSON.parse(data);
        if (j.error) throw new Error(j.error.message);
        const piece = j.choices && j.choices[0] && j.choices[0].delta.content;
        if (piece) {
          if (!t0) t0 = performance.now(); else chunks++;
          answer += piece; out.textContent = answer; log.scrollTop = log.scrollHeight;
          if (chunks > 0) document.getElementById('speed').textContent =
            (chunks / ((performance.now() - t0) / 1000)).toFixed(1) + ' tok/s';
        }
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') { out.className = 'msg error'; out.textContent = answer + '\n[' + e.message + ']'; }
  }
  messages.push({role: 'assistant', content: answer});
  controller = null; send.disabled = false; stop.disabled = true; out.dataset.done = '1';
}
document.getElementById('form').addEventListener('submit', e => {
  e.preventDefault(); const t = input.value.trim(); if (!t || controller) return; input.value = ''; ask(t);
});
input.addEventListener('keydown', e => {
  if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); document.getElementById('form').requestSubmit(); }
});
stop.addEventListener('click', () => { if (controller) controller.abort(); });
document.getElementById('reset').addEventListener('click', () => { if (!controller) { messages = []; log.innerHTML = ''; } });
</script></body></html>
)HTML";
}

}  // namespace trapetum::server
