// The page of `demarche serve`: positions as of a date, drawn and listed,
// each statement checked against the signed checkpoint in this browser.
'use strict';

const $ = (s) => document.querySelector(s);
const DAY = 86400000;
const state = {
  days: [],          // the days on which something was said, sorted
  checkpoint: null,  // {size, root (bytes), text}
  records: new Map(), // seq -> Promise of the record (show --json)
  checks: new Map(),  // seq -> Promise of {state, text}
  round: 0,           // the redraw whose answers are shown
  big: 0,             // the ledger's size, when it is too large to draw whole
};

// ---- small things ----------------------------------------------------------

function busy(n) {
  const b = document.body;
  b.dataset.busy = String(Number(b.dataset.busy) + n);
}

async function fetched(url, as) {
  busy(1);
  try {
    const r = await fetch(url);
    if (!r.ok) {
      let why = r.status + ' ' + r.statusText;
      try { why = (await r.json()).error || why; } catch (_) { /* not JSON */ }
      const e = new Error(url + ': ' + why);
      e.status = r.status;
      throw e;
    }
    return as === 'text' ? await r.text() : await r.json();
  } finally {
    busy(-1);
  }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.append(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

const dayOf = (iso) => Math.floor(Date.parse(iso.slice(0, 10) + 'T00:00:00Z') / DAY);
const isoOf = (day) => new Date(day * DAY).toISOString().slice(0, 10);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function showError(e) {
  $('#status').textContent = String(e.message || e);
}

// ---- bytes and hashes --------------------------------------------------------

const hexBytes = (hex) => Uint8Array.from(hex.match(/../g).map((h) => parseInt(h, 16)));
const b64Bytes = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

function join(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// RFC 9162, 2.1.3.2: the root an inclusion proof gives for a leaf.
async function rootFrom(leaf, index, size, proof) {
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  const node = (l, rr) => sha256(join(Uint8Array.of(1), l, rr));
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await node(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = await node(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

// ---- the checkpoint ----------------------------------------------------------

// A C2SP signed note: the text, then a blank line, then "— name base64" lines.
function parseNote(note) {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return null;
  const text = note.slice(0, split + 1);
  const lines = text.split('\n');
  const sigs = note.slice(split + 2).split('\n').filter((l) => l.startsWith('\u2014 '))
    .map((l) => { const [name, sig] = l.slice(2).split(' '); return { name, sig }; });
  return { text, origin: lines[0], size: Number(lines[1]), root: b64Bytes(lines[2]), sigs };
}

// Checks the note's Ed25519 signature by the server's key, where the browser can.
async function signatureHolds(cp) {
  let vkey;
  try { vkey = (await fetched('/api/key', 'text')).trim(); } catch (_) { return null; }
  // name+hash+key, where the base64 key may hold a '+' itself
  const m = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(vkey);
  if (!m) return null;
  const [, name, , key] = m;
  const sig = cp.sigs.find((s) => s.name === name);
  if (!sig) return false;
  try {
    const pub = b64Bytes(key).slice(1);
    const raw = b64Bytes(sig.sig).slice(4);
    const k = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'Ed25519' }, k, raw, new TextEncoder().encode(cp.text));
  } catch (_) {
    return null; // no Ed25519 in this browser
  }
}

async function loadCheckpoint() {
  const badge = $('#checkpoint');
  try {
    const cp = parseNote(await fetched('/checkpoint', 'text'));
    state.checkpoint = cp;
    const sig = await signatureHolds(cp);
    const signer = cp.sigs.map((s) => s.name).join(', ');
    badge.textContent = 'checkpoint of ' + cp.size + ' records, signed by ' + signer +
      (sig === true ? ' \u2713' : sig === false ? ' \u2717 signature fails' : '');
    badge.className = 'badge ' + (sig === false ? 'bad' : 'ok');
    badge.title = cp.text + (sig === null ? '\n(signature not checked: this browser has no Ed25519)' : '');
  } catch (e) {
    state.checkpoint = null;
    badge.textContent = e.status === 404 ? 'no signed checkpoint (serve --sign)' : 'checkpoint unavailable';
    badge.className = 'badge bad';
  }
}

// ---- records and their checks -------------------------------------------------

function record(seq) {
  if (!state.records.has(seq)) state.records.set(seq, fetched('/api/record?seq=' + seq));
  return state.records.get(seq);
}

function check(seq) {
  if (!state.checks.has(seq)) state.checks.set(seq, (async () => {
    const cp = state.checkpoint;
    if (!cp) return { state: 'unchecked', text: 'not checked: no signed checkpoint' };
    if (seq > cp.size) return { state: 'later', text: 'recorded after the checkpoint' };
    const [r, p] = await Promise.all([
      record(seq),
      fetched('/api/proofs/inclusion?seq=' + seq + '&size=' + cp.size),
    ]);
    const leaf = await sha256(join(Uint8Array.of(0), hexBytes(r.hash)));
    const root = await rootFrom(leaf, seq - 1, cp.size, p.proof.map(b64Bytes));
    return root && same(root, cp.root)
      ? { state: 'verified', text: '\u2713 in the signed checkpoint' }
      : { state: 'failed', text: '\u2717 not verified' };
  })().catch((e) => ({ state: 'failed', text: '\u2717 ' + e.message })));
  return state.checks.get(seq);
}

// ---- drawing -------------------------------------------------------------------

const words = (s) => (s || '').replace(/-/g, ' ');
// Labels and the words a predicate takes, from the vocabulary (/words.json).
let vocab = { predicates: {}, stances: {} };
const stanceLabel = (s) => vocab.stances[s] || words(s);

function propositionText(p) {
  const w = vocab.predicates[p.predicate] || { label: words(p.predicate), of: 'of', at: 'in' };
  let t = w.label;
  if (p.document) t += ' ' + p.document;
  if (p.subject) t += ' ' + w.of + ' ' + p.subject;
  if (p.qualifier) t += ' [' + words(p.qualifier) + ']';
  if (p.location) t += ' ' + w.at + ' ' + p.location;
  return t;
}

function sourcesOf(r) {
  const list = r.sources || (r.source ? [r.source] : []);
  return list.map((s) => {
    const text = [s.publisher, s.published_on].filter(Boolean).join(', ') || 'source';
    // Only web addresses become links.
    if (s.url && /^https?:\/\//i.test(s.url)) {
      return el('a', { href: s.url, target: '_blank', rel: 'noopener noreferrer' }, text);
    }
    return el('span', {}, text);
  });
}

// What a statement's verification says: every record it rests on verified.
async function checkAll(seqs) {
  const all = await Promise.all(seqs.map(check));
  return all.find((c) => c.state !== 'verified') || all[0];
}

function statementItem(seq) {
  const item = el('div', { class: 'statement', 'data-seq': String(seq) }, el('span', { class: 'empty' }, 'seq ' + seq + '…'));
  record(seq).then(async (original) => {
    // A corrected statement is shown as it stands; both records are checked.
    const by = original.status === 'corrected' ? original.corrected_by : null;
    const r = by ? await record(by) : original;
    const shown = by ? Object.assign({}, r, r.statement || {}) : r;
    const badge = el('span', { class: 'verify', 'data-state': 'checking', title: 'the chain hash of this record, SHA-256 as an RFC 6962 leaf, folded with its inclusion proof to the root of the signed checkpoint' }, 'checking…');
    const speaker = shown.speaker ? [shown.speaker.name, shown.speaker.role].filter(Boolean).join(', ') : null;
    const sources = el('span', { class: 'sources' });
    sourcesOf(shown).forEach((s, i) => { if (i) sources.append('; '); sources.append(s); });
    const status = by ? el('span', {}, '[as corrected by seq ' + by + ']')
      : original.status && original.status !== 'standing' ? el('span', {}, '[' + original.status + ']') : null;
    item.replaceChildren(
      el('div', { class: 'meta' },
        el('span', { class: 'mono' }, 'seq ' + seq),
        el('span', {}, shown.said_on),
        speaker ? el('span', {}, speaker) : null,
        status,
        badge),
      el('blockquote', {}, '\u201c' + (shown.quote || '') + '\u201d'),
      el('div', { class: 'meta' }, sources));
    checkAll(by ? [seq, by] : [seq]).then((c) => { badge.dataset.state = c.state; badge.textContent = c.text; });
  }).catch((e) => item.replaceChildren(el('span', { class: 'empty' }, 'seq ' + seq + ': ' + e.message)));
  return item;
}

const SHOWN = 200;

function listPositions(ps) {
  const list = $('#positions');
  list.replaceChildren();
  if (!ps.length) {
    list.append(el('li', { class: 'empty' }, 'No positions as of this date with these filters.'));
    return;
  }
  for (const p of ps.slice(0, SHOWN)) {
    const terms = [
      p.deadline ? 'by ' + p.deadline : null,
      p.condition ? p.condition : null,
      p.joint_with && p.joint_with.length ? 'jointly with ' + p.joint_with.join(', ') : null,
      p.hedge ? 'hedged: \u201c' + p.hedge + '\u201d' : null,
    ].filter(Boolean).join(' \u00b7 ');
    list.append(el('li', { class: 'position', 'data-party': p.party, 'data-location': p.location || '' },
      el('div', { class: 'what' },
        el('span', { class: 'party' }, p.party), ' ',
        el('span', { class: 'stance' }, stanceLabel(p.stance)), ' ',
        propositionText(p), ' ',
        el('span', { class: 'since' }, 'since ' + p.said_on)),
      terms ? el('div', { class: 'terms' }, terms) : null,
      ...p.statements.map(statementItem)));
  }
  if (ps.length > SHOWN) {
    list.append(el('li', { class: 'empty' }, (ps.length - SHOWN) + ' more positions: narrow the filters to see them.'));
  }
}

function question() {
  return {
    'as-of': isoOf(Number($('#asof').value)),
    party: $('#party').value,
    predicate: $('#predicate').value,
    location: $('#location').value,
  };
}

async function redraw() {
  const round = ++state.round;
  const q = question();
  $('#asof-label').value = q['as-of'];
  $('#asof-label').textContent = q['as-of'];
  document.body.dataset.asOf = q['as-of'];
  const view = $('#view').value;
  // The question in the address, to share or come back to.
  history.replaceState(null, '', '#' + query({ ...q, view }).slice(1));
  if (state.big && !q.party && !q.location) {
    // Hundreds of thousands of positions draw nothing anyone can read.
    $('#graph').replaceChildren();
    $('#timeline').replaceChildren();
    $('#count').textContent = '';
    $('#positions').replaceChildren(el('li', { class: 'empty' },
      'This ledger holds ' + state.big.toLocaleString('en') + ' events: choose a party or a location to see its positions.'));
    return;
  }
  busy(1);
  try {
    // The timeline reads every statement: it comes when it comes.
    const timeline = fetched('/api/timeline' + query(q), 'text');
    const [ps, graph] = await Promise.all([
      fetched('/api/positions' + query({ ...q, view })),
      fetched('/api/graph' + query({ ...q, view }), 'text'),
    ]);
    if (round !== state.round) return; // a newer question was asked meanwhile
    $('#status').textContent = '';
    $('#graph').innerHTML = graph;
    $('#timeline').replaceChildren(el('span', { class: 'empty' }, 'drawing…'));
    timeline.then((svg) => { if (round === state.round) $('#timeline').innerHTML = svg; })
      .catch((e) => { if (round === state.round) showError(e); });
    $('#count').textContent = '(' + ps.length + ' position' + (ps.length === 1 ? '' : 's') + ')';
    listPositions(ps);
    if (state.big) learnDays(ps);
  } catch (e) {
    if (round === state.round) showError(e);
  } finally {
    busy(-1);
  }
}

function step(dir) {
  const now = Number($('#asof').value);
  const days = state.days;
  const to = dir < 0 ? [...days].reverse().find((d) => d < now) : days.find((d) => d > now);
  if (to !== undefined) { $('#asof').value = String(to); redraw(); }
}

// The options of a filter: values, or [value, label] pairs.
function fill(select, values) {
  const seen = new Map();
  for (const v of values) {
    const [value, label] = Array.isArray(v) ? v : [v, v];
    if (value && !seen.has(value)) seen.set(value, label);
  }
  for (const [value, label] of [...seen].sort((a, b) => a[0].localeCompare(b[0]))) {
    select.append(el('option', { value }, label));
  }
}

// The days on which something was said, as far as the answers tell.
function learnDays(ps) {
  const days = new Set(state.days);
  for (const p of ps) days.add(dayOf(p.said_on));
  state.days = [...days].sort((a, b) => a - b);
}

// Beyond this many events the page lists the registry's actors in its
// filters, and asks for a party or a location before it draws.
const BIG = 20000;

async function start() {
  busy(1);
  try {
    const [head, w] = await Promise.all([fetched('/api/head'), fetched('/words.json'), loadCheckpoint()]);
    vocab = w;
    $('#head').textContent = head.size.toLocaleString('en') + ' events \u00b7 ' + head.hash.slice(0, 12) + '\u2026';
    $('#head').title = 'head ' + head.size + ':' + head.hash;
    const today = Math.floor(Date.now() / DAY);
    let first;
    let last;
    if (head.size <= BIG) {
      const all = await fetched('/api/positions');
      fill($('#party'), all.map((p) => p.party));
      fill($('#predicate'), all.map((p) => p.predicate));
      fill($('#location'), all.map((p) => p.location));
      learnDays(all);
      first = state.days.length ? state.days[0] - 1 : today - 365;
      last = state.days.length ? state.days[state.days.length - 1] : today;
    } else {
      state.big = head.size;
      const [actors, firstSaid] = await Promise.all([
        fetched('/api/actors'), fetched('/api/log?type=statement&limit=1')]);
      const named = actors.filter((a) => a.kind !== 'person').map((a) => [a.id, a.id + ' \u2013 ' + a.name]);
      fill($('#party'), named);
      fill($('#location'), named);
      fill($('#predicate'), Object.keys(vocab.predicates));
      first = (firstSaid.length ? dayOf(firstSaid[0].said_on) : today) - 3650;
      last = today;
    }
    const slider = $('#asof');
    slider.min = String(first);
    slider.max = String(last);
    $('#said').replaceChildren(...state.days.map((d) => el('option', { value: String(d) })));
    const asked = new URLSearchParams(location.hash.slice(1));
    const date = /^\d{4}-\d{2}-\d{2}$/.test(asked.get('as-of') || '') ? asked.get('as-of') : null;
    const at = date ? dayOf(date) : last;
    for (const name of ['party', 'predicate', 'location', 'view']) {
      const v = asked.get(name);
      const select = $('#' + name);
      if (v && [...select.options].some((o) => o.value === v)) select.value = v;
    }
    slider.value = String(Math.min(last, Math.max(first, at)));
    slider.addEventListener('input', redraw);
    for (const id of ['#party', '#predicate', '#location', '#view']) $(id).addEventListener('change', redraw);
    $('#prev').addEventListener('click', () => step(-1));
    $('#next').addEventListener('click', () => step(1));
    await redraw();
  } catch (e) {
    showError(e);
  } finally {
    busy(-1);
    document.body.dataset.ready = '1';
  }
}

start();
