/**
 * `sid reproduce` on part of a table: --rows trains only the rows whose IDs come from the named
 * embeddings, --replicates sets the seeds per row, and --queries reads the search queries from a file
 * (keyed by its content, reported in its own folder). Checked on `tiny` with a query file of three
 * styles: the trainings made, the rows written, and the generative row paired with BM25 and with the
 * dense search of its own embedding, per style.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prepareData } from '../lib/data/index';
import { getProfile } from '../lib/pipeline/profiles';
import type { ResultsDocument } from '../lib/pipeline/collect';
import { projectRoot } from '../lib/util/fs';

const root = projectRoot();

function sid(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [path.join(root, 'bin', 'sid.mjs'), ...args], { cwd: root, env: { ...process.env, SID_QUIET: '1', ...env }, encoding: 'utf8', timeout: 30 * 60 * 1000 });
}

test('sid reproduce --rows --replicates --queries: only those rows and seeds are trained, on the file\'s queries, paired per style', { timeout: 40 * 60 * 1000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sid-partial-'));
  try {
    const items = prepareData(getProfile('tiny').data).dataset.items;
    const styles = ['plot', 'title', 'vibe'];
    const lines = items.flatMap((it) => styles.map((s, j) => JSON.stringify({ item_id: it.id, style: s, known: true, query: `${it.text.split(' ').slice(j, j + 4).join(' ')}` })));
    const file = path.join(dir, 'tiny-llm.jsonl');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const env = { SID_CACHE_DIR: path.join(dir, 'cache') };
    // Usage errors first, before any work.
    const bad = sid(['reproduce', '--profile', 'tiny', '--rows', 'nope'], env);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--rows/);
    const badSeeds = sid(['reproduce', '--profile', 'tiny', '--replicates', '0'], env);
    assert.equal(badSeeds.status, 2);
    assert.match(badSeeds.stderr, /--replicates must be an integer >= 1/);
    const out = path.join(dir, 'out');
    const r = sid(['reproduce', '--profile', 'tiny', '--queries', file, '--tables', 'shared-vs-separate', '--rows', 'multitask', '--replicates', '1', '--jobs', '1', '--out', out], env);
    assert.equal(r.status, 0, r.stderr.split('\n').slice(-30).join('\n'));
    assert.match(r.stderr, /the rows of multitask, 1 seed\(s\) per row: no demo and no notebooks/);
    const doc = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as ResultsDocument;
    assert.deepEqual(doc.rowsSelected, ['multitask']);
    // Two of the table's three rows come from the multi-task embedding; one seed each.
    assert.deepEqual(doc.experiments.map((e) => e.id).sort(), ['multitask/rq-kmeans/separate', 'multitask/rq-kmeans/shared']);
    const methods = [...new Set(doc.rows.filter((x) => x.table === 'shared-vs-separate').map((x) => x.method))].sort();
    assert.deepEqual(methods, ['Multi-task, separate tokens (same codes)', 'Multi-task, shared tokens']);
    // The file's queries: every test query is one of its lines, split as the canonical split does.
    assert.equal(doc.counts.searchTest + 0 > 0, true);
    assert.ok(doc.counts.searchTest <= lines.length);
    for (const id of ['multitask/rq-kmeans/shared']) {
      for (const against of ['bm25', 'dense'] as const) {
        const p = doc.searchPairs!.find((x) => x.id === id && x.against === against);
        assert.ok(p, `${id} against ${against}`);
        assert.deepEqual(p.pairs.map((x) => x.style), ['all', ...styles]);
        assert.equal(p.pairs.slice(1).reduce((a, x) => a + x.n, 0), p.pairs[0].n);
      }
    }
    assert.ok(!fs.existsSync(path.join(out, 'index.html')), 'no notebooks were run');
    // A second run reuses every training.
    const again = sid(['reproduce', '--profile', 'tiny', '--queries', file, '--tables', 'shared-vs-separate', '--rows', 'multitask', '--replicates', '1', '--jobs', '1', '--out', out], { ...env, SID_QUIET: '0' });
    assert.equal(again.status, 0);
    assert.match(again.stderr, /2\/2 experiments cached; 0 to train/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
