/**
 * Where the tests find the real ml-latest-small: MOVIELENS_DIR, else the project's data folder, else
 * the workplace's shared copy beside the checkout. Tests that need it skip when none exists.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../../lib/util/fs';

export function movieLensSmallDir(): string {
  const root = projectRoot();
  const candidates = [
    process.env.MOVIELENS_DIR,
    path.join(root, 'data', 'movielens', 'ml-latest-small'),
    path.join(root, '..', 'shared', 'data', 'movielens', 'ml-latest-small'),
  ].filter((p): p is string => !!p);
  return path.resolve(candidates.find((p) => fs.existsSync(path.join(p, 'ratings.csv'))) ?? candidates[0]);
}
