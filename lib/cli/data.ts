/** `sid data stats`, `sid data fetch`, `sid data synth` and `sid data queries` (lib/cli/dataQueries.ts). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataStats, fetchMovieLens, prepareData, type DataOptions } from '../data/index';
import { SYNTHETIC_LIKE, syntheticLikeOptions, writeSyntheticFolder, type SyntheticLike } from '../data/synthetic';
import { formatSeconds } from '../util/progress';
import { getProfile } from '../pipeline/profiles';
import { intOption, optionalIntOption, parseArgs, UsageError } from './args';

export async function dataCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'stats') return stats(rest);
  if (sub === 'fetch') return fetch(rest);
  if (sub === 'synth') return synth(rest);
  if (sub === 'queries') return (await import('./dataQueries')).dataQueriesCommand(rest);
  throw new UsageError(`expected "data stats", "data fetch", "data synth" or "data queries", got "data ${sub ?? ''}"`);
}

/** The data set named by --profile, --dataset and --dir (as `sid data stats` reads it). */
export function dataOptionsFrom(options: Record<string, string>): DataOptions {
  const profile = getProfile(options.profile);
  let data: DataOptions = { ...profile.data };
  if (options.dataset) {
    const ds = options.dataset;
    if (ds !== 'ml-latest-small' && ds !== 'ml-25m' && ds !== 'synthetic') {
      throw new UsageError(`--dataset must be ml-latest-small, ml-25m or synthetic, got "${ds}"`);
    }
    // A data set named explicitly keeps the profile's query settings but not its data set.
    data = { ...data, dataset: ds, paperScale: ds === 'ml-25m' ? data.paperScale : undefined };
  }
  if (options.dir) data.dir = options.dir;
  return data;
}

async function stats(argv: string[]): Promise<number> {
  const { options, flags } = parseArgs(argv, { flags: ['json'], options: ['dataset', 'profile', 'dir', 'queries'] });
  const data = dataOptionsFrom(options);
  if (options.queries) data.queryFile = options.queries;
  const prepared = prepareData(data);
  const s = dataStats(prepared);
  if (flags.has('json')) {
    process.stdout.write(JSON.stringify(s, null, 2) + '\n');
  } else {
    process.stdout.write(
      [
        `dataset      ${s.dataset} (${s.source}, loaded in ${s.loadMs} ms)`,
        `read         ${s.read.movies} movies, ${s.read.users} users, ${s.read.ratings} ratings, ${s.read.tags} tags`,
        `kept         ${s.items} items, ${s.users} users, ${s.interactions.kept} interactions`,
        `rec split    train ${s.rec.trainInteractions}, valid ${s.rec.valid}, test ${s.rec.test}`,
        `queries      train ${s.queries.train}, valid ${s.queries.valid}, test ${s.queries.test}`,
        `             generic (several items, training only) ${s.queries.genericForms} forms, ${s.queries.genericQueries} queries; canonical twins ${s.queries.canonicalTwins}`,
        `ties         ${s.rec.tiedFinalPairs} users with validation and test item at the same timestamp (seeded order)`,
        `buckets      ${JSON.stringify(s.buckets.items)} (${s.buckets.rule})`,
      ].join('\n') + '\n',
    );
  }
  return 0;
}

async function fetch(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, { options: ['dest'] });
  const name = positional[0];
  if (!name) throw new UsageError('expected a data set name: sid data fetch <ml-latest-small|ml-25m>');
  const dir = await fetchMovieLens(name, options.dest);
  process.stdout.write(`${dir}\n`);
  return 0;
}

/** The files a synthetic folder holds: an --out folder with anything else in it is not replaced. */
const SYNTH_FILES = ['movies.csv', 'ratings.csv', 'tags.csv'];

async function synth(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, { options: ['like', 'out', 'seed', 'movies', 'users'] });
  const like = options.like as SyntheticLike | undefined;
  if (!like || !(like in SYNTHETIC_LIKE)) throw new UsageError(`--like must be one of ${Object.keys(SYNTHETIC_LIKE).join(', ')}, got "${like ?? ''}"`);
  if (!options.out) throw new UsageError('--out <dir> is required: the folder to write movies.csv, ratings.csv and tags.csv into');
  const out = path.resolve(options.out);
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory()) throw new UsageError(`--out ${out} exists and is not a directory`);
    const foreign = fs.readdirSync(out).filter((f) => !SYNTH_FILES.includes(f));
    if (foreign.length) {
      throw new UsageError(`--out ${out} holds other files (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}); it would be replaced as a whole: name an empty or new folder`);
    }
  }
  const opts = syntheticLikeOptions(like, {
    seed: intOption(options, 'seed', 0, 0),
    movies: optionalIntOption(options, 'movies', 2 * SYNTHETIC_LIKE[like].minHistory),
    users: optionalIntOption(options, 'users', 1),
  });
  process.stderr.write(`[synth] ${like}-like: ${opts.numItems} movies, ${opts.numUsers} users, about ${Math.round(opts.numUsers! * opts.meanHistory!)} ratings (seed ${opts.seed}) into ${out}\n`);
  const s = writeSyntheticFolder(out, opts);
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  process.stdout.write(
    `${out}: ${s.movies} movies (${mb(s.bytes.movies)}), ${s.users} users, ${s.ratings} ratings (${mb(s.bytes.ratings)}), ${s.tags} tags (${mb(s.bytes.tags)}) in ${formatSeconds(s.seconds)}\n`,
  );
  return 0;
}
