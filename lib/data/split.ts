/**
 * Leave-last-out split of every user's sequence: the last item is the test target, the second-last
 * the validation target, the rest is training. Validation examples see the training prefix as history;
 * test examples see the training prefix plus the validation item. Every interaction lands in exactly
 * one place: sum(train lengths) + |valid| + |test| = interactions kept. Leave-last-N-out (more test
 * examples per user, for more rec test power) generalises it.
 */
import type { Dataset, RecExample, RecSplit, UserSequence } from '../types';
import { Rng, hashString32 } from '../util/random';

/**
 * Orders interactions that share a timestamp: each run of equal timestamps (given in any fixed order,
 * e.g. by movieId) is shuffled by a generator seeded by (seed, user id). Which of two same-second
 * ratings becomes the test item then follows neither movieId (which tracks release date) nor file
 * order, and does not depend on the other users. `items` and `timestamps` are permuted in place over
 * [0, length); timestamps must already be non-decreasing.
 */
export function shuffleTimeTies(items: Int32Array | number[], timestamps: Float64Array | number[], length: number, user: number, seed = 0): void {
  let rng: Rng | null = null;
  for (let a = 0; a < length; ) {
    let b = a + 1;
    while (b < length && timestamps[b] === timestamps[a]) b++;
    if (b - a > 1) {
      rng ??= new Rng(hashString32(`time-ties|${seed}|${user}`));
      for (let i = b - 1; i > a; i--) {
        const j = a + rng.int(i - a + 1);
        const t = items[i];
        items[i] = items[j];
        items[j] = t;
      }
    }
    a = b;
  }
}

/** Users whose validation and test items (their last two interactions) share a timestamp. */
export function tiedFinalPairs(users: Pick<UserSequence, 'timestamps'>[]): number {
  let n = 0;
  for (const u of users) {
    const k = u.timestamps.length;
    if (k >= 2 && u.timestamps[k - 1] === u.timestamps[k - 2]) n++;
  }
  return n;
}

/** Leave-last-out: the last item of every user is the test target, the second-last validation. */
export function splitLeaveLastOut(dataset: Pick<Dataset, 'users' | 'name'>): RecSplit {
  return splitLeaveLastN(dataset, 1);
}

/**
 * Leave-last-N-out: each user's last N items are N test targets, each with the history cut just
 * before it (earlier test items are history, never training targets); the item before them is the
 * validation target; the rest is training. A user with fewer than N + 2 interactions gives
 * n - 2 test targets, keeping one training item and one validation item. N = 1 is leave-last-out.
 */
export function splitLeaveLastN(dataset: Pick<Dataset, 'users' | 'name'>, targets: number): RecSplit {
  if (!Number.isInteger(targets) || targets < 1) throw new Error(`splitLeaveLastN(${dataset.name}): test targets per user must be a positive integer, got ${targets}`);
  const train: UserSequence[] = [];
  const valid: RecExample[] = [];
  const test: RecExample[] = [];
  for (const u of dataset.users) {
    const n = u.items.length;
    if (n < 3) {
      throw new Error(
        `splitLeaveLastN(${dataset.name}): user ${u.user} has ${n} interactions; expected at least 3 ` +
          `(one training item, one validation, one test): load with minHistory >= 3`,
      );
    }
    const t = Math.min(targets, n - 2);
    const trainEnd = n - t - 1;
    const trainItems = u.items.subarray(0, trainEnd);
    train.push({ user: u.user, items: trainItems, timestamps: u.timestamps.subarray(0, trainEnd) });
    valid.push({ user: u.user, history: trainItems, target: u.items[trainEnd] });
    for (let pos = n - t; pos < n; pos++) test.push({ user: u.user, history: u.items.subarray(0, pos), target: u.items[pos] });
  }
  return { train, valid, test };
}

/** Training interaction count per item. */
export function trainingCounts(train: UserSequence[], numItems: number): Int32Array {
  const counts = new Int32Array(numItems);
  for (const u of train) {
    for (let i = 0; i < u.items.length; i++) {
      const it = u.items[i];
      if (it < 0 || it >= numItems) throw new Error(`trainingCounts: item index ${it} of user ${u.user} is outside 0..${numItems - 1}`);
      counts[it]++;
    }
  }
  return counts;
}
