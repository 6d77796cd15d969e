/** `sid data stats` and `sid data fetch`. */
import { dataStats, fetchMovieLens, prepareData, type DataOptions } from '../data/index';
import { getProfile } from '../pipeline/profiles';
import { parseArgs, UsageError } from './args';

export async function dataCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'stats') return stats(rest);
  if (sub === 'fetch') return fetch(rest);
  throw new UsageError(`expected "data stats" or "data fetch", got "data ${sub ?? ''}"`);
}

async function stats(argv: string[]): Promise<number> {
  const { options, flags } = parseArgs(argv, { flags: ['json'], options: ['dataset', 'profile', 'dir', 'queries'] });
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
