/**
 * The teacher-forced validation loss: each example's mean token cross-entropy of its target ID
 * given its prompt, as in training but without gradients, over every validation example. No beam
 * search, so it costs a forward pass per example and can cover the whole validation split, where
 * Recall@k by beam search is estimated on a sample.
 */
import { tf } from '../backend/index';
import { padBatch, padTargets, type Seq2SeqExample } from './prompts';
import type { Seq2SeqModel } from './seq2seqModel';

/** Each example's mean token loss, in order; forward passes of `chunk` examples, sorted by prompt length so they pad little. */
export function exampleLosses(net: Seq2SeqModel, examples: readonly Seq2SeqExample[], chunk = 256): Float64Array {
  const out = new Float64Array(examples.length);
  const order = examples.map((_, i) => i).sort((a, b) => examples[a].input.length - examples[b].input.length || a - b);
  for (let s = 0; s < order.length; s += chunk) {
    const idx = order.slice(s, s + chunk);
    const part = idx.map((i) => examples[i]);
    const { tokens, length } = padBatch(part.map((e) => e.input));
    const { targets, length: tLen } = padTargets(part.map((e) => e.target));
    const tl = tf.tidy(() => net.lossTerms(tokens, part.length, length, targets, tLen).tokenLoss);
    const v = tl.dataSync();
    tl.dispose();
    part.forEach((e, r) => {
      let sum = 0;
      for (let t = 0; t < e.target.length; t++) sum += v[r * tLen + t];
      out[idx[r]] = sum / e.target.length;
    });
  }
  return out;
}

/** Mean and variance of the mean of per-example values. */
function meanStats(xs: ArrayLike<number>): { mean: number; varOfMean: number } {
  const n = xs.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += xs[i];
  m /= Math.max(1, n);
  let v = 0;
  for (let i = 0; i < n; i++) v += (xs[i] - m) * (xs[i] - m);
  return { mean: m, varOfMean: n > 1 ? v / (n - 1) / n : 0 };
}

/** The two tasks' per-example losses summarised: per task, their mean, the tasks' mean, and its standard error over examples. */
export function lossSummary(search: ArrayLike<number>, rec: ArrayLike<number>): { search: number; rec: number; mean: number; se: number } {
  const s = meanStats(search);
  const r = meanStats(rec);
  return { search: s.mean, rec: r.mean, mean: (s.mean + r.mean) / 2, se: Math.sqrt(s.varOfMean + r.varOfMean) / 2 };
}

/** Per task, the mean of the examples' losses; `mean` weighs the two tasks equally, `se` is its standard error over examples. */
export function validationLoss(net: Seq2SeqModel, valid: { search: readonly Seq2SeqExample[]; rec: readonly Seq2SeqExample[] }): { search: number; rec: number; mean: number; se: number } {
  return lossSummary(exampleLosses(net, valid.search), exampleLosses(net, valid.rec));
}

/**
 * The change of a two-task validation score between two evaluations of the same examples: the
 * change of the tasks' mean, and its paired standard error (each example's own change, so the
 * examples' difficulty cancels). What tells a real gain between epochs from sampling noise.
 */
export function pairedChange(now: { search: ArrayLike<number>; rec: ArrayLike<number> }, before: { search: ArrayLike<number>; rec: ArrayLike<number> }): { delta: number; se: number } {
  const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    if (a.length !== b.length) throw new Error(`pairedChange: ${a.length} examples now, ${b.length} before`);
    return Float64Array.from({ length: a.length }, (_, i) => a[i] - b[i]);
  };
  const s = meanStats(diff(now.search, before.search));
  const r = meanStats(diff(now.rec, before.rec));
  return { delta: (s.mean + r.mean) / 2, se: Math.sqrt(s.varOfMean + r.varOfMean) / 2 };
}
