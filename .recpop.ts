import { initBackend } from './lib/backend/index';
import { getProfile } from './lib/pipeline/profiles';
import { createContext, dataStage, cachedExperiment, parseSpecId } from './lib/pipeline/stages';
import { popularityRankings } from './lib/eval/popularity';

await initBackend();
const ctx = createContext(getProfile('small'));
const { data } = await dataStage(ctx);
const counts = data.buckets.counts;
const ex = data.rec.test;
const pop = popularityRankings(counts, ex, 30);
for (const id of process.argv.slice(2)) {
  const r = await cachedExperiment(ctx, parseSpecId(id));
  if (!r) { console.log(id, 'not cached'); continue; }
  const rk = r.evaluation.rec.rankings;
  let overlap = 0, n = 0, cnt = 0, cntPop = 0, len = 0;
  rk.forEach((items, u) => {
    const p = new Set(pop[u]);
    const top = items.slice(0, 30);
    len += top.length;
    for (const it of top) { if (p.has(it)) overlap++; cnt += counts[it]; n++; }
    for (const it of pop[u]) cntPop += counts[it];
  });
  console.log(JSON.stringify({ id, meanListLength: len / rk.length, overlapWithPopularityTop30: overlap / n, meanTrainCountOfRecs: cnt / n, meanTrainCountOfPopularityTop30: cntPop / (pop.length * 30), recall30: r.evaluation.rec.metrics['recall@30'].mean, byBucket: Object.fromEntries(Object.entries(r.evaluation.rec.byBucket['recall@30']).map(([k, v]) => [k, +v.mean.toFixed(3)])) }));
}
