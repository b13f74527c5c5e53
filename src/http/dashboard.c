/* dashboard.c -- the page GET / serves: one self-contained HTML file (no outside
 * resources) that lists the models through GET /models and sends a request to any
 * of their endpoints, showing the answer.  It holds no data itself: everything it
 * shows comes from the JSON API, with the token the user types.
 * See LICENSE for copyright. */
#include "http.h"

static const char PAGE[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>stratagem serve</title>\n"
    "<style>\n"
    "body{font:14px/1.4 sans-serif;margin:2em;max-width:70em;color:#222}\n"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;"
    "text-align:left;vertical-align:top}\n"
    "textarea{width:100%;height:10em;font:13px monospace}pre{background:#f4f4f4;padding:1em;"
    "overflow:auto;max-height:30em}\n"
    "</style></head><body>\n"
    "<h1>stratagem serve</h1>\n"
    "<p>The models this service loaded, and a form to call them. The API: "
    "<code>GET /models</code>, <code>POST /models/NAME/predict</code>, "
    "<code>POST /models/NAME/plan</code>, <code>POST /models/NAME/recommend</code> "
    "(docs/serve.md).</p>\n"
    "<p><label>Token (if the service needs one) <input id=\"token\" type=\"password\"></label> "
    "<button id=\"load\">Load models</button></p>\n"
    "<table id=\"models\"><tr><th>name</th><th>task</th><th>details</th><th>endpoints</th></tr></table>\n"
    "<h2>Try a request</h2>\n"
    "<p><select id=\"target\"></select> <button id=\"send\">Send</button></p>\n"
    "<textarea id=\"body\">{\"rows\": [{}]}</textarea>\n"
    "<pre id=\"answer\"></pre>\n"
    "<script>\n"
    "function headers(){var t=document.getElementById('token').value;var h={'Content-Type':"
    "'application/json'};if(t)h['Authorization']='Bearer '+t;return h;}\n"
    "function cell(tr,text){var td=document.createElement('td');td.textContent=text;tr.appendChild(td);}\n"
    "function show(status,text){var a=document.getElementById('answer');try{text=JSON.stringify("
    "JSON.parse(text),null,2);}catch(e){}a.textContent=status+'\\n'+text;}\n"
    "function load(){fetch('/models',{headers:headers()}).then(function(r){return r.text().then("
    "function(t){if(!r.ok){show(r.status,t);return;}var ms=JSON.parse(t).models;"
    "var tb=document.getElementById('models');while(tb.rows.length>1)tb.deleteRow(1);"
    "var sel=document.getElementById('target');sel.innerHTML='';"
    "ms.forEach(function(m){var tr=document.createElement('tr');cell(tr,m.name);cell(tr,m.task);"
    "var d=Object.assign({},m);delete d.name;delete d.task;delete d.endpoints;"
    "cell(tr,JSON.stringify(d));cell(tr,m.endpoints.join(', '));tb.appendChild(tr);"
    "m.endpoints.forEach(function(e){var o=document.createElement('option');"
    "o.value='/models/'+m.name+'/'+e;o.textContent=o.value;sel.appendChild(o);});});"
    "pick();});});}\n"
    "function pick(){var v=document.getElementById('target').value||'';"
    "document.getElementById('body').value=/recommend$/.test(v)?'{\"items\": [], \"k\": 10}':"
    "/plan$/.test(v)?'{\"rows\": [{}], \"budget\": 100, \"cost\": {}}':'{\"rows\": [{}]}';}\n"
    "function send(){var v=document.getElementById('target').value;if(!v)return;"
    "fetch(v,{method:'POST',headers:headers(),body:document.getElementById('body').value})"
    ".then(function(r){return r.text().then(function(t){show(r.status,t);});});}\n"
    "document.getElementById('load').onclick=load;document.getElementById('send').onclick=send;"
    "document.getElementById('target').onchange=pick;load();\n"
    "</script></body></html>\n";

const char *srv_dashboard_html(void)
{
    return PAGE;
}
