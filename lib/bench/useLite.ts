/**
 * Encoding speed of the Universal Sentence Encoder lite (lib/embed/useLite.ts): items/s on MovieLens
 * item texts ("Title (year). Genres: ... Tags: ...", evenly spaced over the catalogue so tagged and
 * untagged movies both appear) and queries/s on generated search queries. Each figure is the best of
 * `repeats` timed passes after one warm-up pass. Figures on a shared 2-core machine are noisy; the
 * process's CPU seconds (user + system) of the same pass say how much of the wall time it computed.
 */
import { initBackend } from '../backend/index';
import { loadMovieLens } from '../data/movielens';
import { generateQueries } from '../data/queries';
import { loadUseLiteEncoder, type UseLiteOptions } from '../embed/useLite';

export interface UseLiteBenchOptions extends UseLiteOptions {
  /** A MovieLens folder (movies.csv, ratings.csv, tags.csv). */
  movieLensDir: string;
  /** Item texts timed. Default 1000. */
  items?: number;
  /** Query texts timed. Default 1000. */
  queries?: number;
  /** Timed passes over each set; the fastest counts. Default 3. */
  repeats?: number;
  /** wasm threads for initBackend (effective only when it is the first initialisation). */
  threads?: number;
}

export interface UseLiteBenchTiming {
  count: number;
  meanTokens: number;
  /** Wall seconds of the fastest pass, and texts per wall second. */
  seconds: number;
  perSecond: number;
  /** CPU seconds of this process in that pass, and texts per CPU second. */
  cpuSeconds: number;
  perCpuSecond: number;
}

export interface UseLiteBenchResult {
  backend: string;
  threads: number;
  loadSeconds: number;
  items: UseLiteBenchTiming;
  queries: UseLiteBenchTiming;
}

function evenlySpaced<T>(xs: T[], n: number): T[] {
  if (n >= xs.length) return xs.slice();
  return Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)]);
}

export async function benchUseLite(o: UseLiteBenchOptions): Promise<UseLiteBenchResult> {
  const info = await initBackend({ threads: o.threads });
  const data = loadMovieLens(o.movieLensDir);
  const itemTexts = evenlySpaced(data.items, o.items ?? 1000).map((it) => it.text);
  const queryTexts = evenlySpaced(generateQueries(data.items, { perItem: 1, seed: 0 }), o.queries ?? 1000).map((q) => q.text);
  const t0 = performance.now();
  const encoder = await loadUseLiteEncoder({ ...o, progressAbove: Infinity });
  const loadSeconds = (performance.now() - t0) / 1000;
  try {
    const time = async (texts: string[]): Promise<UseLiteBenchTiming> => {
      await encoder.encode(texts);
      let best = { seconds: Infinity, cpuSeconds: Infinity };
      for (let r = 0; r < (o.repeats ?? 3); r++) {
        const wall = performance.now();
        const cpu = process.cpuUsage();
        await encoder.encode(texts);
        const used = process.cpuUsage(cpu);
        const seconds = (performance.now() - wall) / 1000;
        if (seconds < best.seconds) best = { seconds, cpuSeconds: (used.user + used.system) / 1e6 };
      }
      const tokens = texts.reduce((n, t) => n + encoder.tokenizer.encode(t).length, 0);
      const n = texts.length;
      return { count: n, meanTokens: tokens / n, ...best, perSecond: n / best.seconds, perCpuSecond: n / best.cpuSeconds };
    };
    return { backend: info.name, threads: info.threads, loadSeconds, items: await time(itemTexts), queries: await time(queryTexts) };
  } finally {
    await encoder.dispose();
  }
}
