// audiotext serve: the page. Plain JS, no libraries; the waveform is drawn on a canvas
// from the peaks the server computes (GET /api/peaks/{id}).
"use strict";

const $ = (sel) => document.querySelector(sel);
const FILTERS = ["duration_min", "duration_max", "folder", "rate", "filter"];
const PAGE = 20;
const player = $("#player");
const state = { mode: null, offset: 0, hits: [], selected: -1, upload: null, busy: false };

const enc = (id) => encodeURIComponent(id);
const audioUrl = (id, download) => `/api/audio/${enc(id)}` + (download ? "?download=1" : "");
const baseName = (id) => id.split("/").pop();
const folderOf = (id) => (id.includes("/") ? id.slice(0, id.lastIndexOf("/")) : ".");

function status(text, isError) {
  const el = $("#status");
  el.textContent = text;
  el.classList.toggle("error", Boolean(isError));
}

function filterParams() {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = $("#" + name).value.trim();
    if (value) params.set(name, value);
  }
  return params;
}

// The address bar holds the query and the filters, so a search can be bookmarked.
function writeUrl() {
  const params = filterParams();
  if (state.mode && state.mode.kind === "text") params.set("q", state.mode.q);
  if (state.mode && state.mode.kind === "like") params.set("like", state.mode.id);
  const url = params.toString() ? "?" + params : location.pathname;
  history.replaceState(null, "", url);
}

function readUrl() {
  const params = new URLSearchParams(location.search);
  for (const name of FILTERS) $("#" + name).value = params.get(name) || "";
  if (params.get("like")) return { kind: "like", id: params.get("like") };
  if (params.get("q")) {
    $("#q").value = params.get("q");
    return { kind: "text", q: params.get("q") };
  }
  return null;
}

async function getJson(url, options) {
  const response = await fetch(url, options);
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON */ }
  if (!response.ok) throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  return body;
}

async function run(mode, append) {
  if (state.busy) return;
  state.busy = true;
  state.mode = mode;
  state.offset = append ? state.offset + PAGE : 0;
  const params = filterParams();
  params.set("k", PAGE);
  params.set("offset", state.offset);
  let request;
  if (mode.kind === "text") {
    params.set("q", mode.q);
    request = getJson("/api/search?" + params);
  } else if (mode.kind === "like") {
    request = getJson(`/api/similar/${enc(mode.id)}?` + params);
  } else {
    params.set("name", mode.file.name);
    request = getJson("/api/search/audio?" + params, { method: "POST", body: mode.file });
  }
  writeUrl();
  status(append ? "loading more…" : "searching…");
  try {
    const answer = await request;
    if (!append) { state.hits = []; $("#results").replaceChildren(); select(-1); }
    for (const row of answer.results) addHit(row);
    $("#more").hidden = !answer.more;
    const what = mode.kind === "text" ? `“${mode.q}”` : mode.kind === "like" ? `sounds like ${baseName(mode.id)}` : `sounds like ${mode.file.name}`;
    status(`${state.hits.length} results for ${what} · ${answer.elapsed_ms} ms`);
    if (!append && state.hits.length) select(0);
  } catch (error) {
    status(error.message, true);
  } finally {
    state.busy = false;
  }
}

function fmt(value, digits) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function addHit(row) {
  const index = state.hits.length;
  const li = document.createElement("li");
  li.className = "hit";
  li.dataset.id = row.id;
  li.innerHTML = `
    <span class="rank"></span><span class="score"></span>
    <div><div class="name"></div><div class="meta"></div></div>
    <canvas class="wave" width="400" height="44"></canvas>
    <div class="actions">
      <button class="play" type="button">▶ Play</button>
      <button class="like" type="button">More like this</button>
      <button class="copy" type="button">Copy path</button>
      <a class="download">Download</a>
    </div>`;
  li.querySelector(".rank").textContent = row.rank;
  li.querySelector(".score").textContent = fmt(row.score, 3);
  li.querySelector(".name").textContent = baseName(row.id);
  li.querySelector(".name").title = row.path || row.id;
  const hit = { row, li, peaks: null, rate: row.sample_rate || row.rate || null };
  state.hits.push(hit);
  describe(hit);
  li.querySelector(".download").href = audioUrl(row.id, true);
  li.querySelector(".download").setAttribute("download", baseName(row.id));
  li.addEventListener("click", () => select(index));
  li.querySelector(".play").addEventListener("click", (e) => { e.stopPropagation(); select(index); toggle(); });
  li.querySelector(".like").addEventListener("click", (e) => { e.stopPropagation(); e.currentTarget.blur(); run({ kind: "like", id: row.id }); });
  li.querySelector(".copy").addEventListener("click", (e) => { e.stopPropagation(); copy(row.path || row.id); });
  li.querySelector("canvas").addEventListener("click", (e) => seek(hit, e));
  $("#results").appendChild(li);
  loadPeaks(hit);
}

function describe(hit) {
  const rate = hit.rate ? `${hit.rate} Hz` : "– Hz";
  hit.li.querySelector(".meta").textContent = `${folderOf(hit.row.id)} · ${fmt(hit.row.duration, 2)} s · ${rate}`;
}

async function loadPeaks(hit) {
  try {
    hit.peaks = await getJson(`/api/peaks/${enc(hit.row.id)}`);
    hit.rate = hit.rate || hit.peaks.sample_rate;
    describe(hit);
  } catch (error) {
    hit.li.querySelector(".meta").textContent += ` · ${error.message}`;
  }
  draw(hit);
}

function draw(hit) {
  const canvas = hit.li.querySelector("canvas");
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const peaks = hit.peaks ? hit.peaks.peaks : [];
  const playing = player.dataset.id === hit.row.id && player.duration > 0;
  const played = playing ? player.currentTime / player.duration : 0;
  const style = getComputedStyle(document.documentElement);
  const step = width / Math.max(peaks.length, 1);
  peaks.forEach((peak, i) => {
    const h = Math.max(1, peak * (height - 2));
    ctx.fillStyle = i / peaks.length < played ? style.getPropertyValue("--played") : style.getPropertyValue("--wave");
    ctx.fillRect(i * step, (height - h) / 2, Math.max(step - 0.5, 0.5), h);
  });
  if (playing) {
    ctx.fillStyle = "#b3261e";
    ctx.fillRect(played * width, 0, 1.5, height);
  }
}

function select(index) {
  if (state.selected >= 0 && state.hits[state.selected]) state.hits[state.selected].li.classList.remove("selected");
  state.selected = index;
  const hit = state.hits[index];
  if (!hit) return;
  hit.li.classList.add("selected");
  hit.li.scrollIntoView({ block: "nearest" });
}

function current() {
  return state.hits.find((h) => h.row.id === player.dataset.id);
}

function toggle() {
  const hit = state.hits[state.selected];
  if (!hit) return;
  if (player.dataset.id !== hit.row.id) {
    const before = current();
    player.dataset.id = hit.row.id;
    player.src = audioUrl(hit.row.id);
    if (before) draw(before);
    player.play().catch((error) => status(`cannot play: ${error.message}`, true));
  } else if (player.paused) {
    player.play().catch((error) => status(`cannot play: ${error.message}`, true));
  } else {
    player.pause();
  }
}

function seek(hit, event) {
  const rect = event.currentTarget.getBoundingClientRect();
  const fraction = (event.clientX - rect.left) / rect.width;
  select(state.hits.indexOf(hit));
  if (player.dataset.id !== hit.row.id) toggle();
  const apply = () => { if (player.duration > 0) player.currentTime = fraction * player.duration; };
  if (player.readyState >= 1) apply(); else player.addEventListener("loadedmetadata", apply, { once: true });
}

function animate() {
  const hit = current();
  if (hit) draw(hit);
  if (!player.paused) requestAnimationFrame(animate);
}

function playState() {
  for (const hit of state.hits) {
    const on = hit.row.id === player.dataset.id && !player.paused;
    hit.li.querySelector(".play").textContent = on ? "❚❚ Pause" : "▶ Play";
  }
  animate();
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    const area = Object.assign(document.createElement("textarea"), { value: text });
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  status(`copied ${text}`);
}

function searchFile(file) {
  if (file) run({ kind: "upload", file });
}

function typing(target) {
  return target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type !== "button");
}

document.addEventListener("keydown", (event) => {
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    if (event.target.type === "number") return; // arrows step the number
    event.preventDefault();
    const next = state.selected + (event.key === "ArrowDown" ? 1 : -1);
    if (next >= 0 && next < state.hits.length) select(next);
    if (event.target === $("#q")) $("#q").blur();
  } else if (event.key === " " && !typing(event.target)) {
    event.preventDefault();
    toggle();
  }
});

$("#search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const q = $("#q").value.trim();
  if (q) run({ kind: "text", q });
});
$("#filters").addEventListener("submit", (event) => {
  event.preventDefault();
  if (state.mode) run(state.mode); else writeUrl();
});
$("#more").addEventListener("click", () => state.mode && run(state.mode, true));
$("#file").addEventListener("change", (event) => searchFile(event.target.files[0]));
player.addEventListener("play", playState);
player.addEventListener("pause", playState);
player.addEventListener("ended", playState);
player.addEventListener("error", () => status("the server could not play this file", true));

let dragDepth = 0;
window.addEventListener("dragenter", (e) => { e.preventDefault(); dragDepth++; $("#drop-hint").hidden = false; });
window.addEventListener("dragleave", () => { if (--dragDepth <= 0) { dragDepth = 0; $("#drop-hint").hidden = true; } });
window.addEventListener("dragover", (e) => e.preventDefault());
window.addEventListener("drop", (e) => {
  e.preventDefault();
  dragDepth = 0;
  $("#drop-hint").hidden = true;
  searchFile(e.dataTransfer.files[0]);
});

(async function start() {
  try {
    const info = await getJson("/api/info");
    $("#about").textContent = `${info.count} sounds · ${info.index} · model ${info.model_id}`;
    $("#folders").replaceChildren(...(info.folders || []).map((f) => Object.assign(document.createElement("option"), { value: f })));
  } catch (error) {
    status(error.message, true);
  }
  const mode = readUrl();
  if (mode) run(mode);
})();
