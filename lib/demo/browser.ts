/**
 * The demo page's script (bundled by lib/demo/bundle.ts into demo-runtime.js): reads
 * `window.SID_DEMO`, builds the model with lib/demo/runtime.ts and wires the page. Every title,
 * genre and query reaches the page as text (textContent, escaped plotly labels), never as markup.
 * `window.sidDemo` exposes the decoder, for the parity tests.
 */
import { startBrowserBackend } from './browserBackend';
import { DEMO_GLOBAL, type DemoMode, type DemoPayload } from './payload';
import { DemoModel, type DemoDecoding } from './runtime';

interface PlotlyLike {
  react(el: HTMLElement, data: unknown[], layout: unknown, config?: unknown): unknown;
}

type Win = Window & { SID_DEMO?: DemoPayload; SID_DEMO_WASM?: string; Plotly?: PlotlyLike; sidDemo?: unknown };
const win = window as Win;

function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`demo.html has no element #${id}`);
  return e;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** Plotly draws hover text as a small HTML subset: escape it. */
function plotText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Deterministic jitter in [-0.38, 0.38] per item and axis. */
function jitter(item: number, axis: number): number {
  let h = Math.imul(item + 1, 0x9e3779b1) ^ Math.imul(axis + 7, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h ^= h >>> 13;
  return (((h >>> 0) % 10000) / 10000 - 0.5) * 0.76;
}

class DemoPage {
  mode: DemoMode;
  history: number[] = [];
  /** The test user whose history is loaded unchanged (their held-out item is marked). */
  user: number | null = null;
  last: DemoDecoding | null = null;

  constructor(readonly model: DemoModel, readonly backend: string) {
    this.mode = model.payload.decode.chosen;
  }

  get p(): DemoPayload {
    return this.model.payload;
  }

  itemLabel(i: number): string {
    const it = this.p.items[i];
    return it.year ? `${it.title} (${it.year})` : it.title;
  }

  init(): void {
    const p = this.p;
    $('meta').textContent = `Profile ${p.profile} (${p.dataset}, ${p.items.length} items); model ${p.experiment}; ` +
      `${this.model.net.parameterCount.toLocaleString('en')} parameters; tfjs ${this.backend} backend; exported ${p.generatedAt.slice(0, 10)}.`;
    this.decodingControls();
    const sample = $('sample-queries');
    for (const q of p.queries) {
      const b = el('button', q);
      b.type = 'button';
      b.addEventListener('click', () => {
        ($('query') as HTMLInputElement).value = q;
        this.runSearch(q);
      });
      sample.appendChild(b);
    }
    $('search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.runSearch(($('query') as HTMLInputElement).value);
    });
    const select = $('user-select') as HTMLSelectElement;
    select.appendChild(el('option', '(choose a test user)'));
    p.users.forEach((u, i) => {
      const o = el('option', `user ${u.user}: ${u.history.length} items`);
      o.value = String(i);
      select.appendChild(o);
    });
    select.addEventListener('change', () => {
      if (select.value === '' || select.selectedIndex === 0) return;
      this.loadUser(Number(select.value));
      this.runRecommend();
    });
    $('history-length').textContent = String(this.model.prompts.historyLength);
    $('title-search').addEventListener('input', () => this.titleSearch());
    $('recommend-button').addEventListener('click', () => this.runRecommend());
    $('clear-history').addEventListener('click', () => {
      this.history = [];
      this.user = null;
      this.renderHistory();
    });
    this.renderHistory();
    this.plot();
  }

  decodingControls(): void {
    const box = $('decoding');
    box.appendChild(el('strong', 'Decoding: '));
    for (const mode of ['plain', 'diverse'] as const) {
      const o = this.p.decode[mode];
      const label = el('label');
      const input = el('input');
      input.type = 'radio';
      input.name = 'mode';
      input.value = mode;
      input.id = `mode-${mode}`;
      input.checked = mode === this.mode;
      input.addEventListener('change', () => {
        this.mode = mode;
        this.rerun();
      });
      label.appendChild(input);
      const groups = o.numGroups ?? 1;
      label.appendChild(document.createTextNode(
        mode === 'plain' ? ` plain beam search (${o.numBeams} beams)` : ` diverse beams (${o.numBeams} beams in ${groups} groups, penalty ${o.diversityPenalty})`,
      ));
      box.appendChild(label);
    }
    box.appendChild(el('span', `sid eval chose ${this.p.decode.chosen} beams on validation.`, 'hint'));
  }

  rerun(): void {
    if (!this.last) return;
    if (this.last.task === 'search') this.runSearch(($('query') as HTMLInputElement).value);
    else this.runRecommend();
  }

  loadUser(i: number): void {
    const u = this.p.users[i];
    this.history = [...u.history];
    this.user = i;
    this.renderHistory();
  }

  titleSearch(): void {
    const q = ($('title-search') as HTMLInputElement).value.trim().toLowerCase();
    const list = $('title-results');
    list.replaceChildren();
    if (q.length < 2) return;
    let shown = 0;
    for (let i = 0; i < this.p.items.length && shown < 12; i++) {
      if (!this.p.items[i].title.toLowerCase().includes(q)) continue;
      shown++;
      const li = el('li', this.itemLabel(i));
      const add = el('button', 'add');
      add.type = 'button';
      add.addEventListener('click', () => {
        if (!this.history.includes(i)) this.history.push(i);
        this.user = null;
        this.renderHistory();
      });
      li.appendChild(add);
      list.appendChild(li);
    }
    if (!shown) list.appendChild(el('li', 'no title matches', 'hint'));
  }

  renderHistory(): void {
    const ol = $('history');
    ol.replaceChildren();
    const from = Math.max(0, this.history.length - 200);
    if (from > 0) ol.appendChild(el('li', `… ${from} earlier items`, 'hint'));
    const read = this.history.length - this.model.prompts.historyLength;
    for (let k = from; k < this.history.length; k++) {
      const item = this.history[k];
      // The items the prompt holds are set in bold.
      const li = el('li', this.itemLabel(item), k >= read ? 'read' : undefined);
      const rm = el('button', 'remove');
      rm.type = 'button';
      rm.addEventListener('click', () => {
        this.history.splice(this.history.indexOf(item), 1);
        this.user = null;
        this.renderHistory();
      });
      li.appendChild(rm);
      ol.appendChild(li);
    }
    if (!this.history.length) ol.appendChild(el('li', 'empty: pick a test user or add titles', 'hint'));
    ol.scrollTop = ol.scrollHeight;
  }

  status(text: string, error = false): void {
    const s = $('status');
    s.textContent = text;
    s.className = error ? 'error' : '';
  }

  runSearch(query: string): void {
    if (!query.trim()) return this.status('Type a query first.', true);
    this.show(() => this.model.search(query, this.mode), `Search: “${query}”`);
  }

  runRecommend(): void {
    if (!this.history.length) return this.status('The history is empty: pick a test user or add titles.', true);
    this.show(() => this.model.recommend(this.history, this.mode), `Recommendations after ${this.history.length} items`);
  }

  show(decode: () => DemoDecoding, title: string): void {
    let d: DemoDecoding;
    try {
      d = decode();
    } catch (err) {
      this.status(`Decoding failed: ${(err as Error).message}`, true);
      return;
    }
    this.last = d;
    $('results-title').textContent = title;
    const o = this.p.decode[d.mode];
    this.status(`${d.hits.length} items from ${d.beams.length} beams (${d.mode}, ${o.numBeams} beams) in ${d.milliseconds.toFixed(0)} ms.` +
      (d.task === 'rec' ? ' Items of the history are never recommended.' : ''));
    const target = d.task === 'rec' && this.user !== null ? this.p.users[this.user].target : -1;
    const body = ($('results') as HTMLTableElement).tBodies[0];
    body.replaceChildren();
    d.hits.forEach((h, r) => {
      const tr = el('tr', undefined, h.item === target ? 'target' : undefined);
      tr.appendChild(el('td', String(r + 1), 'num'));
      tr.appendChild(el('td', this.itemLabel(h.item) + (h.item === target ? ' (the user’s held-out next item)' : '')));
      tr.appendChild(el('td', this.p.items[h.item].genres.join(', ')));
      tr.appendChild(el('td')).appendChild(el('code', h.codes.join('-')));
      tr.appendChild(el('td', h.score.toFixed(3), 'num'));
      tr.appendChild(el('td', h.codes.map((c, lvl) => `L${lvl + 1} ${c}`).join(' → ') + ' → ' + this.p.items[h.item].title));
      body.appendChild(tr);
    });
    this.plot();
  }

  plot(): void {
    const Plotly = win.Plotly;
    if (!Plotly) return;
    const n = this.p.items.length;
    const task = this.last?.task ?? 'search';
    const xy = (i: number) => {
      const c = this.model.codesOf(task, i);
      return [c[0] + jitter(i, 0), (c.length > 1 ? c[1] : 0) + jitter(i, 1)];
    };
    const all = { x: [] as number[], y: [] as number[], text: [] as string[], c: [] as number[] };
    for (let i = 0; i < n; i++) {
      const [x, y] = xy(i);
      all.x.push(x);
      all.y.push(y);
      all.c.push(this.model.codesOf(task, i)[0]);
      all.text.push(plotText(`${this.itemLabel(i)} · ${this.model.codesOf(task, i).join('-')}`));
    }
    const traces: unknown[] = [{
      // SVG up to a few thousand points; WebGL beyond, where SVG gets slow.
      type: n > 4000 ? 'scattergl' : 'scatter', mode: 'markers', name: 'items', x: all.x, y: all.y, text: all.text, hoverinfo: 'text',
      marker: { size: 5, color: all.c, colorscale: 'Viridis', opacity: 0.35 },
    }];
    if (this.last?.task === 'rec' || this.history.length) {
      const h = this.history.slice(-this.model.prompts.historyLength);
      traces.push({
        type: 'scatter', mode: 'markers', name: 'history (last read)', x: h.map((i) => xy(i)[0]), y: h.map((i) => xy(i)[1]),
        text: h.map((i) => plotText(this.itemLabel(i))), hoverinfo: 'text', marker: { size: 10, symbol: 'diamond', color: '#1f5fbf' },
      });
    }
    if (this.last) {
      const hits = this.last.hits.slice(0, 30);
      traces.push({
        type: 'scatter', mode: 'markers+text', name: 'decoded (rank)', x: hits.map((h) => xy(h.item)[0]), y: hits.map((h) => xy(h.item)[1]),
        text: hits.map((_, r) => String(r + 1)), textposition: 'top center',
        hovertext: hits.map((h, r) => plotText(`#${r + 1} ${this.itemLabel(h.item)} · log-prob ${h.score.toFixed(3)}`)), hoverinfo: 'text',
        marker: { size: hits.map((_, r) => Math.max(7, 16 - r / 3)), color: '#d62728', line: { color: '#600', width: 1 } },
      });
    }
    const L = this.model.space(task).ids.length;
    Plotly.react($('id-space'), traces, {
      margin: { l: 50, r: 10, t: 10, b: 45 },
      xaxis: { title: { text: 'level-1 code' }, zeroline: false },
      yaxis: { title: { text: L > 1 ? 'level-2 code' : 'item' }, zeroline: false },
      legend: { orientation: 'h', y: 1.06 },
      hovermode: 'closest',
    }, { displaylogo: false, responsive: true });
  }
}

async function start(): Promise<unknown> {
  const payload = win[DEMO_GLOBAL as 'SID_DEMO'];
  if (!payload) throw new Error('demo-data.js did not define window.SID_DEMO (is it beside demo.html?)');
  // ?backend=cpu forces the pure-JS backend (the tests compare both with Node).
  const asked = new URLSearchParams(location.search).get('backend');
  const started = await startBrowserBackend(win.SID_DEMO_WASM, asked === 'cpu' ? 'cpu' : 'wasm');
  const backend = started.fallback ? `${started.name} (${started.fallback})` : started.name;
  const model = new DemoModel(payload);
  api.model = model;
  const page = new DemoPage(model, backend);
  page.init();
  // A first answer, so the page opens with the model at work.
  if (payload.queries.length) {
    ($('query') as HTMLInputElement).value = payload.queries[0];
    page.runSearch(payload.queries[0]);
  }
  return { backend: started.name, fallback: started.fallback ?? null, items: payload.items.length };
}

const api = {
  ready: null as Promise<unknown> | null,
  model: null as DemoModel | null,
  /** Ranked items and scores, for the tests. */
  search(query: string, mode: DemoMode) {
    const d = api.model!.search(query, mode);
    return { items: d.hits.map((h) => h.item), scores: d.hits.map((h) => h.score), milliseconds: d.milliseconds };
  },
  recommend(history: number[], mode: DemoMode) {
    const d = api.model!.recommend(history, mode);
    return { items: d.hits.map((h) => h.item), scores: d.hits.map((h) => h.score), milliseconds: d.milliseconds };
  },
};
win.sidDemo = api;

function boot(): void {
  api.ready = start().catch((err: Error) => {
    const meta = document.getElementById('meta');
    if (meta) {
      meta.textContent = `The demo could not start: ${err.message}`;
      meta.className = 'error';
    }
    throw err;
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
