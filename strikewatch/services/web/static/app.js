// strikewatch web app: the map, the incident list, incident pages, escalation charts and the
// user's alert subscriptions, on the read API (/v1) and /subscriptions of this same server.
// The API key comes from the sign-in form or the URL fragment (#key=...), which browsers never
// send to the server; it is kept in sessionStorage and sent as X-API-Key.
"use strict";

const COLORS = {
  air_strike: "#d64545",
  drone_strike: "#8e44ad",
  missile_attack: "#e67e22",
  shelling: "#2c7be5",
  other_violence: "#777",
};
const LABELS = {
  air_strike: "air strike",
  drone_strike: "drone strike",
  missile_attack: "missile attack",
  shelling: "shelling",
  other_violence: "other violence",
};
const PAGE = 100;
const $ = (sel) => document.querySelector(sel);

let key = sessionStorage.getItem("strikewatch-key") || "";
let map,
  markers,
  cursor = null,
  shown = new Map(),
  stream = null;

// ------------------------------------------------------------------ helpers

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat())
    if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function safeHref(url) {
  try {
    const u = new URL(url);
    return ["http:", "https:", "file:"].includes(u.protocol) ? u.href : null;
  } catch {
    return null;
  }
}

async function api(path, opts = {}) {
  const r = await fetch(path, {
    ...opts,
    headers: {
      "X-API-Key": key,
      ...(opts.body ? { "Content-Type": "application/json" } : {}),
      ...(opts.headers || {}),
    },
  });
  if (r.status === 401) {
    signOut("That API key was not accepted.");
    throw new Error("unauthorized");
  }
  if (!r.ok && r.status !== 204) throw new Error(`${path}: HTTP ${r.status} ${await r.text()}`);
  return r.status === 204 ? null : r.json();
}

function who(rec) {
  const a = (rec.attacker && rec.attacker.name) || "unknown attacker";
  const t = (rec.targets || []).map((x) => x.name).join(", ") || "unknown targets";
  return `${a} → ${t}`;
}
// A place with no point says so: an unresolved name is "not located", a country-level one
// (named or inferred from the theatre) is a country, never a dot on the map.
const placeLabel = (p) => {
  if (p.lat !== null && p.lat !== undefined) return p.name;
  if (p.precision === "country") return `${p.name} (country${p.inferred ? ", inferred" : ""})`;
  return `${p.name} (not located)`;
};
const where = (rec) => (rec.places || []).map(placeLabel).join(", ") || "unknown place";
// "reported": the text dated nothing; the date is the report's publication.
const when = (rec) =>
  rec.time && rec.time.date ? rec.time.date + (rec.time.precision === "reported" ? " (reported)" : "") : "date unknown";

// ------------------------------------------------------------------ sign-in and routing

function takeKeyFromFragment() {
  const m = location.hash.match(/^#key=([^&]+)(?:&(.*))?$/);
  if (!m) return;
  key = decodeURIComponent(m[1]);
  sessionStorage.setItem("strikewatch-key", key);
  history.replaceState(null, "", location.pathname + (m[2] ? "#" + m[2] : "#/")); // the key leaves the address bar
}

function signOut(message) {
  key = "";
  sessionStorage.removeItem("strikewatch-key");
  if (stream) stream.abort();
  stream = null;
  $("#login-error").textContent = message || "";
  route();
}

function show(id) {
  document.querySelectorAll(".view").forEach((v) => (v.hidden = v.id !== id));
  const name = id.replace("view-", "");
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.view === name));
  $("#logout").hidden = !key;
}

function route() {
  if (!key) {
    show("login");
    return;
  }
  const h = location.hash || "#/";
  let m;
  if ((m = h.match(/^#\/incident\/(.+)$/))) {
    show("view-incident");
    incidentPage(decodeURIComponent(m[1]));
  } else if (h === "#/escalation") {
    show("view-escalation");
    escalationPage();
  } else if (h === "#/subscriptions") {
    show("view-subscriptions");
    subscriptionsPage();
  } else {
    show("view-map");
    const q = h.match(/^#\/\?(.*)$/); // drill-down links (Grafana): #/?country=IQ&event_type=...
    if (q)
      for (const [k, v] of new URLSearchParams(q[1])) {
        const input = $("#filters").elements[k];
        if (input) input.value = v;
      }
    if (!map) initMap();
    else {
      map.invalidateSize();
      if (q) loadIncidents(true);
    }
  }
  if (!stream) startStream();
}

// ------------------------------------------------------------------ map and list

async function initMap() {
  map = L.map("map", { worldCopyJump: true, minZoom: 2, zoomSnap: 0.5 }).setView([30, 30], 3);
  const atlas = await (await fetch("vendor/countries-50m.json")).json();
  L.geoJSON(topojson.feature(atlas, atlas.objects.countries), {
    style: { color: "#8a98a8", weight: 0.6, fillColor: "#eef0ea", fillOpacity: 1 },
    interactive: false,
  }).addTo(map);
  markers = L.layerGroup().addTo(map);
  const legend = L.control({ position: "bottomleft" });
  legend.onAdd = () =>
    el(
      "div",
      { class: "legend" },
      Object.entries(LABELS)
        .slice(0, 4)
        .map(([k, v]) => el("div", {}, el("span", { class: "type", style: `background:${COLORS[k]}` }), v)),
      el("div", { class: "muted" }, "size: number of sources"),
    );
  legend.addTo(map);
  loadIncidents(true);
}

function filterParams() {
  const p = new URLSearchParams();
  for (const [k, v] of new FormData($("#filters"))) if (String(v).trim()) p.set(k, String(v).trim());
  return p;
}

async function loadIncidents(reset) {
  if (reset) {
    cursor = null;
    shown.clear();
    markers.clearLayers();
    $("#incidents tbody").replaceChildren();
  }
  const p = filterParams();
  p.set("limit", PAGE);
  if (cursor) p.set("cursor", cursor);
  const page = await api(`/v1/incidents?${p}`);
  for (const rec of page.items) addIncident(rec, false);
  cursor = page.next_cursor;
  $("#more").hidden = !cursor;
  $("#list-empty").hidden = shown.size > 0;
}

function radius(rec) {
  return 5 + 4 * Math.sqrt(Math.max(1, rec.source_count || 1));
}

function addIncident(rec, live) {
  const old = shown.get(rec.id);
  if (old) {
    old.row.remove();
    if (old.marker) markers.removeLayer(old.marker);
  }
  const color = COLORS[rec.event_type] || "#555";
  const href = `#/incident/${encodeURIComponent(rec.id)}`;
  const row = el(
    "tr",
    { "data-id": rec.id, class: live ? "fresh" : null },
    el("td", {}, when(rec)),
    el("td", {}, el("span", { class: "type", style: `background:${color}` }), LABELS[rec.event_type] || rec.event_type),
    el("td", {}, el("a", { href }, who(rec))),
    el("td", {}, where(rec)),
    el("td", {}, rec.source_count),
    el("td", {}, rec.severity ?? ""),
  );
  const body = $("#incidents tbody");
  if (live) body.prepend(row);
  else body.append(row);
  let marker = null;
  const p = (rec.places || []).find((x) => x.lat !== null && x.lat !== undefined);
  if (p) {
    marker = L.circleMarker([p.lat, p.lon], {
      radius: radius(rec),
      color,
      weight: 1,
      fillColor: color,
      fillOpacity: 0.6,
      className: `incident-marker incident-${rec.id}`,
    }).bindPopup(() =>
      el(
        "div",
        {},
        el("strong", {}, `${LABELS[rec.event_type] || rec.event_type}, ${when(rec)}`),
        el("br"),
        who(rec),
        el("br"),
        `${where(rec)} (${p.precision})`,
        el("br"),
        el("a", { href }, `${rec.source_count} source(s): open`),
      ),
    );
    markers.addLayer(marker);
  }
  shown.set(rec.id, { row, marker });
  $("#list-empty").hidden = true;
}

// ------------------------------------------------------------------ live updates
// SSE read over fetch, so the key goes in a header (EventSource cannot send one). On a reconnect the
// last event id goes as Last-Event-ID: the server first sends what was missed meanwhile.

async function startStream() {
  const ctl = new AbortController();
  stream = ctl;
  const live = $("#live");
  let lastId = null;
  while (stream === ctl && key) {
    let ended = false;
    try {
      // The list's filters apply to the stream too (the server filters before sending).
      const headers = { "X-API-Key": key, Accept: "text/event-stream" };
      if (lastId) headers["Last-Event-ID"] = lastId;
      const r = await fetch(`/v1/stream?${filterParams()}`, { headers, signal: ctl.signal });
      if (r.status === 401) {
        signOut("That API key was not accepted.");
        return;
      }
      if (!r.ok) throw new Error(`stream: HTTP ${r.status}`); // 429 (too many streams) or 503: retry later
      live.className = "live on";
      live.textContent = "live";
      const reader = r.body.getReader(),
        dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const chunk = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = "message",
            data = "",
            id = null;
          for (const line of chunk.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
            else if (line.startsWith("id: ")) id = line.slice(4);
          }
          if (id) lastId = id;
          if (event === "incident" && data) onLive(JSON.parse(data));
          else if (event === "truncated") loadIncidents(true); // missed more than the server replays
        }
      }
      ended = r.ok; // the server ended a long-lived stream: resume at once
    } catch (e) {
      if (ctl.signal.aborted) return;
    }
    live.className = "live off";
    live.textContent = "reconnecting";
    await new Promise((res) => setTimeout(res, ended ? 0 : 3000));
  }
}

function onLive(rec) {
  window.strikewatchLive = (window.strikewatchLive || 0) + 1; // read by the browser test
  if (map && markers) addIncident(rec, true);
  const open = location.hash.match(/^#\/incident\/(.+)$/);
  if (open && decodeURIComponent(open[1]) === rec.id) incidentPage(rec.id);
}

// ------------------------------------------------------------------ incident page

// Quotes stay in their article's language (the fields around them are English); Arabic
// (and any right-to-left script) reads right to left.
const RTL = new Set(["ar", "fa", "he", "ur"]);
function quoteAttrs(lang) {
  return lang ? { lang, dir: RTL.has(lang) ? "rtl" : "auto" } : {};
}

// The sentence of the event's evidence that holds span, with the span marked; else the span alone.
function quote(ev, span) {
  if (!span) return null;
  const s = (ev.evidence || []).find((e) => e.start <= span.start && span.end <= e.end);
  if (!s) return el("blockquote", quoteAttrs(ev.language), el("mark", {}, span.text));
  const a = span.start - s.start,
    b = span.end - s.start;
  return el(
    "blockquote",
    quoteAttrs(ev.language),
    s.text.slice(0, a).trimStart(),
    el("mark", {}, s.text.slice(a, b)),
    s.text.slice(b).trimEnd(),
  );
}

// A claim's quote (a sentence of its article) with what it claims marked where the quote shows it.
function claimQuote(c) {
  const text = (c.quote || {}).text || "";
  // A denial's party is the speaker's own side (a code, "RU"): the speaker's words are what to mark.
  const needle =
    c.kind === "casualties"
      ? String(c.killed ?? c.injured ?? "")
      : c.kind === "target"
        ? c.target
        : c.stance === "denied"
          ? c.speaker
          : c.party;
  const i = needle ? text.toLowerCase().indexOf(String(needle).toLowerCase()) : -1;
  if (i < 0) return el("blockquote", {}, el("mark", {}, text));
  return el(
    "blockquote",
    {},
    text.slice(0, i),
    el("mark", {}, text.slice(i, i + String(needle).length)),
    text.slice(i + String(needle).length),
  );
}

function claimWhat(c) {
  if (c.kind === "casualties")
    return (
      [c.killed != null ? `${c.killed} killed` : "", c.injured != null ? `${c.injured} injured` : ""]
        .filter(Boolean)
        .join(", ") + (c.counted && c.counted !== "people" ? ` (${c.counted})` : "") // a part: "1 killed (children)"
    );
  if (c.kind === "responsibility")
    return { claimed: "claims it: ", blamed: "blames ", denied: "denies it: " }[c.stance] + (c.party || "");
  return `hit: ${c.target}`;
}

// Who says what, side by side: one row per claim, with its article and time.
function claimsTable(inc) {
  const claims = inc.claims || [];
  if (!claims.length) return el("p", { class: "muted" }, "No claims extracted.");
  return el(
    "table",
    { id: "claims" },
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", {}, "Speaker"),
        el("th", {}, "Claim"),
        el("th", {}, "Quote"),
        el("th", {}, "Source"),
        el("th", {}, "Time"),
      ),
    ),
    el(
      "tbody",
      {},
      claims.map((c) => {
        const href = safeHref(c.url);
        return el(
          "tr",
          { class: `claim claim-${c.kind}${c.stance ? " claim-" + c.stance : ""}` },
          el("td", {}, c.speaker, el("br"), el("span", { class: "muted" }, (c.speaker_kind || "").replace("_", " "))),
          el("td", {}, claimWhat(c)),
          el("td", {}, claimQuote(c)),
          el(
            "td",
            {},
            href
              ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }, c.outlet || "article")
              : c.outlet || "",
            c.family ? el("div", { class: "muted" }, c.family) : null,
          ),
          el("td", {}, (c.published_at || c.seen_at || "").slice(0, 16).replace("T", " ")),
        );
      }),
    ),
  );
}

function gradeLine(inc) {
  if (!inc.grade) return null;
  return el(
    "p",
    { class: `grade grade-${inc.grade}` },
    el("strong", {}, inc.grade.replace("_", " ")),
    ` — ${inc.grade_reason || ""} · ${inc.independent_sources} independent source(s)`,
    inc.killed_range ? ` · killed: ${inc.killed_range[0]}–${inc.killed_range[1]} by claim` : "",
  );
}

function placeText(p) {
  const country = p.country && p.country !== p.name ? `, ${p.country}` : "";
  const coords = p.lat != null ? `, ${p.lat.toFixed(2)}, ${p.lon.toFixed(2)}` : "";
  return `${p.name}${country} (precision: ${p.precision}${coords})`;
}

function facts(inc, events) {
  const dl = el("dl", { class: "facts" });
  const add = (term, value, quotes) => {
    const seen = new Set(); // one quote once: several mentions often sit in one sentence
    dl.append(
      el("dt", {}, term),
      el(
        "dd",
        {},
        value,
        quotes.filter((q) => q && !seen.has(q.innerHTML) && seen.add(q.innerHTML)),
      ),
    );
  };
  const ofEvents = (fn) => events.flatMap((ev) => fn(ev).map((span) => quote(ev, span)));
  add(
    "What",
    `${LABELS[inc.event_type] || inc.event_type}`,
    events.map((ev) => (ev.evidence[0] ? el("blockquote", quoteAttrs(ev.language), ev.evidence[0].text.trim()) : null)),
  );
  add(
    "Who struck",
    inc.attacker ? `${inc.attacker.name} (${inc.attacker.type.replace("_", " ")})` : "unknown",
    ofEvents((ev) => (ev.attacker && ev.attacker.mentions ? ev.attacker.mentions.slice(0, 1) : [])),
  );
  add(
    "Whom",
    (inc.targets || []).map((t) => t.name).join(", ") || "unknown",
    ofEvents((ev) => (ev.targets || []).flatMap((t) => (t.mentions || []).slice(0, 1))),
  );
  add(
    "Where",
    (inc.places || []).map((p) => placeText(p)).join("; ") || "unknown",
    ofEvents((ev) => (ev.places || []).map((p) => p.mention).filter(Boolean)),
  );
  add(
    "When",
    `${when(inc)} (precision: ${(inc.time && inc.time.precision) || "unknown"})`,
    ofEvents((ev) => [ev.time && ev.time.expression].filter(Boolean)),
  );
  add(
    "Weapons",
    [...(inc.platforms || []), ...(inc.munitions || [])].join(", ") || "not reported",
    ofEvents((ev) => [...(ev.platforms || []), ...(ev.munitions || [])].map((w) => w.mention).filter(Boolean)),
  );
  const c = inc.casualties || {};
  const cas =
    {
      reported: `${c.killed ?? "?"} killed, ${c.injured ?? "?"} injured`,
      no_immediate_reports: "No immediate reports of casualties",
      none: "None reported",
      unknown: "Not reported",
    }[c.statement] || c.statement;
  add(
    "Casualties",
    cas,
    ofEvents((ev) => [ev.casualties && ev.casualties.evidence].filter(Boolean)),
  );
  add(
    "Who says so",
    [...new Set(events.flatMap((ev) => (ev.attributions || []).map((a) => `${a.source} (${a.role})`)))].join(", ") ||
      "the reporting outlets",
    ofEvents((ev) => (ev.attributions || []).map((a) => a.quote)),
  );
  return dl;
}

async function incidentPage(id) {
  const box = $("#incident");
  box.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  let d;
  try {
    d = await api(`/v1/incidents/${encodeURIComponent(id)}`);
  } catch (e) {
    box.replaceChildren(el("p", { class: "error" }, String(e.message)));
    return;
  }
  const inc = d.incident;
  const sources = el(
    "ul",
    {},
    d.sources.map((s) => {
      const href = safeHref(s.url);
      const text = s.title || s.url || s.article_id;
      return el(
        "li",
        {},
        href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", class: "source-link", ...quoteAttrs(s.language) }, text) : text,
        s.language ? el("span", { class: "lang-tag" }, ` [${s.language}]`) : "",
        s.outlet ? ` — ${s.outlet}` : "",
        s.published_at ? ` (${s.published_at.slice(0, 10)})` : "",
      );
    }),
  );
  const revs = el(
    "table",
    {},
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", {}, "Revision"),
        el("th", {}, "Changes"),
        el("th", {}, "Sources"),
        el("th", {}, "Casualties"),
      ),
    ),
    el(
      "tbody",
      {},
      d.revisions.map((r) =>
        el(
          "tr",
          {},
          el("td", {}, r.revision),
          el("td", {}, (r.changes || []).join(", ")),
          el("td", {}, r.source_count),
          el("td", {}, (r.casualties || {}).statement),
        ),
      ),
    ),
  );
  const chain = d.tit_for_tat.chain.length
    ? el(
        "ol",
        {},
        d.tit_for_tat.chain.map((c) =>
          el(
            "li",
            {},
            c.id === inc.id
              ? el(
                  "strong",
                  {},
                  `${c.date || "?"}: ${c.attacker || "?"} → ${(c.targets || []).join(", ")} (this incident)`,
                )
              : el(
                  "a",
                  { href: `#/incident/${encodeURIComponent(c.id)}` },
                  `${c.date || "?"}: ${c.attacker || "?"} → ${(c.targets || []).join(", ")}`,
                ),
          ),
        ),
      )
    : el("p", { class: "muted" }, "Not part of a tit-for-tat chain.");
  const esc = d.theatre_escalation
    ? el("p", {}, `Escalation index in ${d.theatre_escalation.key}: ${d.theatre_escalation.value}`)
    : null;
  box.replaceChildren(
    el("h2", {}, `${LABELS[inc.event_type] || inc.event_type}: ${who(inc)}`),
    el(
      "p",
      { class: "muted" },
      `${where(inc)} · ${when(inc)} · ${inc.source_count} source(s) · ` +
        `severity ${inc.severity ?? "?"} · revision ${inc.revision}`,
    ),
    gradeLine(inc),
    facts(inc, d.events),
    el("h3", {}, "Claims: who says what"),
    claimsTable(inc),
    el("h3", {}, "Sources"),
    sources,
    el("h3", {}, "Revisions"),
    revs,
    el("h3", {}, "Tit-for-tat chain"),
    chain,
    esc,
  );
}

// ------------------------------------------------------------------ escalation chart

async function escalationPage() {
  const latest = (await api("/v1/escalation?scope=theatre")).scores;
  const ul = $("#theatres");
  ul.replaceChildren(
    ...latest.map((s) => el("li", { "data-key": s.key, onclick: () => chart(s.key) }, `${s.key}: ${s.value}`)),
  );
  if (latest.length) chart(latest[0].key);
  else $("#chart-note").textContent = "No escalation scores yet.";
}

async function chart(theatre) {
  document.querySelectorAll("#theatres li").forEach((li) => li.classList.toggle("active", li.dataset.key === theatre));
  const scores = (await api(`/v1/escalation?scope=theatre&key=${encodeURIComponent(theatre)}`)).scores;
  $("#chart-title").textContent = `Escalation index, ${theatre}`;
  const svg = $("#chart"),
    W = 720,
    H = 300,
    P = 40,
    ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const mk = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text) e.textContent = text;
    svg.append(e);
    return e;
  };
  const ts = scores.map((s) => Date.parse(s.at));
  const t0 = Math.min(...ts),
    t1 = Math.max(...ts, t0 + 1);
  const x = (t) => P + ((t - t0) / (t1 - t0)) * (W - 2 * P),
    y = (v) => H - P - v * (H - 2 * P);
  mk("line", { x1: P, y1: H - P, x2: W - P, y2: H - P, stroke: "#999" });
  mk("line", { x1: P, y1: P, x2: P, y2: H - P, stroke: "#999" });
  for (const v of [0, 0.5, 1]) mk("text", { x: 4, y: y(v) + 4, "font-size": 11 }, v.toFixed(1));
  mk("text", { x: P, y: H - 10, "font-size": 11 }, new Date(t0).toISOString().slice(0, 10));
  mk("text", { x: W - P - 70, y: H - 10, "font-size": 11 }, new Date(t1).toISOString().slice(0, 10));
  mk("polyline", {
    fill: "none",
    stroke: "#d64545",
    "stroke-width": 2,
    points: scores.map((s, i) => `${x(ts[i])},${y(s.value)}`).join(" "),
  });
  scores.forEach((s, i) =>
    mk("circle", { cx: x(ts[i]), cy: y(s.value), r: 3, fill: "#d64545" }).append(
      Object.assign(document.createElementNS(ns, "title"), { textContent: `${s.at.slice(0, 10)}: ${s.value}` }),
    ),
  );
  $("#chart-note").textContent =
    `${scores.length} score(s); the index is 0..1 (rate, severity trend, tit-for-tat chain, de-escalation).`;
}

// ------------------------------------------------------------------ subscriptions

const list = (v) =>
  String(v || "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

async function subscriptionsPage() {
  const subs = await api("/subscriptions");
  $("#subs tbody").replaceChildren(
    ...subs.map((s) =>
      el(
        "tr",
        { "data-id": s.id },
        el("td", {}, s.name),
        el("td", {}, s.countries.join(", ")),
        el("td", {}, s.event_types.join(", ")),
        el("td", {}, s.actors.join(", ")),
        el("td", {}, s.min_severity),
        el("td", {}, s.webhook_url || ""),
        el(
          "td",
          {},
          el(
            "button",
            {
              type: "button",
              onclick: async () => {
                await api(`/subscriptions/${encodeURIComponent(s.id)}`, { method: "DELETE" });
                subscriptionsPage();
              },
            },
            "Delete",
          ),
        ),
      ),
    ),
  );
}

async function createSubscription(ev) {
  ev.preventDefault();
  const f = ev.target,
    fd = new FormData(f);
  const body = {
    name: fd.get("name"),
    countries: list(fd.get("countries")),
    actors: list(fd.get("actors")),
    event_types: fd.getAll("event_types"),
    min_severity: Number(fd.get("min_severity") || 0),
    webhook_url: fd.get("webhook_url") || null,
    webhook_format: fd.get("webhook_format"),
  };
  try {
    await api("/subscriptions", { method: "POST", body: JSON.stringify(body) });
    $("#sub-error").textContent = "";
    f.reset();
    subscriptionsPage();
  } catch (e) {
    $("#sub-error").textContent = e.message;
  }
}

// ------------------------------------------------------------------ start

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  key = $("#login-key").value.trim();
  const r = await fetch("/v1/incidents?limit=1", { headers: { "X-API-Key": key } });
  if (r.status === 401) {
    key = "";
    $("#login-error").textContent = "That API key was not accepted.";
    return;
  }
  sessionStorage.setItem("strikewatch-key", key);
  $("#login-error").textContent = "";
  route();
});
$("#logout").addEventListener("click", () => signOut(""));
function restartStream() {
  if (stream) stream.abort();
  stream = null;
  startStream();
}
$("#filters").addEventListener("submit", (ev) => {
  ev.preventDefault();
  loadIncidents(true);
  restartStream();
});
$("#more").addEventListener("click", () => loadIncidents(false));
$("#sub-form").addEventListener("submit", createSubscription);
window.addEventListener("hashchange", () => {
  takeKeyFromFragment();
  route();
});
takeKeyFromFragment();
route();
