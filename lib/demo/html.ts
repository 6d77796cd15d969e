/**
 * demo.html: a static skeleton that loads, from its own folder, plotly.min.js, demo-data.js (the
 * exported model and items), demo-wasm.js (tfjs's wasm binary) and demo-runtime.js (the bundled lib
 * code that decodes and fills the page). Nothing is fetched: the page works from file:// without network.
 */

export const DEMO_HTML_FILE = 'demo.html';
export const DEMO_DATA_FILE = 'demo-data.js';
export const DEMO_RUNTIME_FILE = 'demo-runtime.js';
export const DEMO_WASM_FILE = 'demo-wasm.js';

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem 3rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.5rem; margin: 0.2rem 0; }
h2 { font-size: 1.15rem; margin: 0 0 0.5rem; }
#meta, .hint { color: #555; font-size: 0.9rem; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; margin: 1rem 0; }
.panel { border: 1px solid #ccc; border-radius: 6px; padding: 0.8rem 1rem; background: #fafafa; }
input[type=text], select { font-size: 1rem; padding: 0.3rem 0.4rem; width: 100%; box-sizing: border-box; }
form { display: flex; gap: 0.5rem; }
button { font-size: 0.95rem; padding: 0.3rem 0.8rem; cursor: pointer; }
.chips button { font-size: 0.8rem; margin: 0.15rem; padding: 0.15rem 0.5rem; border-radius: 12px; border: 1px solid #aac; background: #eef; }
#history { max-height: 14rem; overflow-y: auto; margin: 0.4rem 0; padding-left: 1.6rem; font-size: 0.9rem; }
#history button, #title-results button { font-size: 0.75rem; padding: 0 0.4rem; margin-left: 0.4rem; }
#history li.read { font-weight: 600; }
#title-results { list-style: none; padding: 0; margin: 0.3rem 0; max-height: 10rem; overflow-y: auto; font-size: 0.9rem; }
#decoding label { margin-right: 1.2rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 0.85rem; }
tr.target td { background: #e6f4e6; }
#status { font-size: 0.9rem; color: #444; }
#status.error { color: #a00; }
#id-space { width: 100%; height: 520px; }
`;

export function demoHtml(opts: { profile: string }): string {
  const profile = escapeText(opts.profile);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Live demo: joint generative search and recommendation (${profile})</title>
<style>${STYLE}</style>
<script src="plotly.min.js"></script>
<script src="${DEMO_DATA_FILE}"></script>
<script src="${DEMO_WASM_FILE}"></script>
<script src="${DEMO_RUNTIME_FILE}"></script>
</head>
<body>
<header>
<h1>Live demo: one model for search and recommendation</h1>
<p id="meta">Loading the model…</p>
<p class="hint">The trained joint model runs in this page (tfjs, no server): it decodes Semantic IDs with trie-constrained beam search.
<a href="index.html">All reports</a></p>
</header>
<section id="decoding" class="panel"></section>
<div class="grid">
<section class="panel" id="search-panel">
<h2>Search: query → item</h2>
<form id="search-form"><input type="text" id="query" placeholder="Type a search query" autocomplete="off"><button type="submit" id="search-button">Search</button></form>
<p class="hint">Test queries (never seen in training):</p>
<div class="chips" id="sample-queries"></div>
</section>
<section class="panel" id="rec-panel">
<h2>Recommendation: history → next item</h2>
<label for="user-select">Start from a test user</label>
<select id="user-select"></select>
<label for="title-search">or add movies by title</label>
<input type="text" id="title-search" placeholder="Search titles" autocomplete="off">
<ul id="title-results"></ul>
<div>History (oldest first; the model reads the last <span id="history-length"></span>, in bold):</div>
<ol id="history"></ol>
<button type="button" id="recommend-button">Recommend</button> <button type="button" id="clear-history">Clear history</button>
</section>
</div>
<section class="panel">
<h2 id="results-title">Decoded items</h2>
<p id="status"></p>
<table id="results"><thead><tr><th>#</th><th>item</th><th>genres</th><th>Semantic ID</th><th>beam log-prob</th><th>ID tree path</th></tr></thead><tbody></tbody></table>
</section>
<section class="panel" style="margin-top: 1rem">
<h2>The ID space</h2>
<p class="hint">Every item at its level-1 code (x) and level-2 code (y), jittered inside its cell; decoded items are marked by rank, history items in blue.</p>
<div id="id-space"></div>
</section>
</body>
</html>
`;
}
