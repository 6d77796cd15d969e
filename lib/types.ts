/**
 * Data contracts shared across the library. Items are addressed everywhere by a dense index
 * 0..numItems-1 (`ItemIndex`); the MovieLens movieId is kept on the item for display and joins.
 */

/** The two tasks one generative model serves. */
export type Task = 'search' | 'rec';
export const TASKS: readonly Task[] = ['search', 'rec'];

export type ItemIndex = number;

export interface Item {
  /** Dense index 0..numItems-1. */
  index: ItemIndex;
  /** Source id (MovieLens movieId, or the synthetic catalogue's id). */
  id: number;
  title: string;
  year: number | null;
  genres: string[];
  /** Most frequent user tags, most frequent first. */
  tags: string[];
  /** The item's text as fed to text encoders: title, year, genres, tags. */
  text: string;
}

/** One user's positive interactions, ordered by time (oldest first). */
export interface UserSequence {
  /** Source user id. */
  user: number;
  items: Int32Array;
  timestamps: Float64Array;
}

export interface LoadStats {
  moviesRead: number;
  ratingsRead: number;
  tagsRead: number;
  usersRead: number;
  /** Ratings dropped by the rating threshold. */
  droppedBelowThreshold: number;
  /** Users dropped for too short a history (after the threshold). */
  droppedShortUsers: number;
  /** Interactions lost with those users. */
  droppedShortUserInteractions: number;
  /** Repeated (user, item) pairs collapsed to the first. */
  droppedDuplicates: number;
  /** Users removed by the paper-scale user sample (ml-25m), with their interactions. */
  droppedSampledUsers: number;
  droppedSampledInteractions: number;
  usersKept: number;
  interactionsKept: number;
  itemsKept: number;
}

export interface Dataset {
  /** e.g. "ml-latest-small", "ml-25m", "synthetic-tiny". */
  name: string;
  items: Item[];
  users: UserSequence[];
  stats: LoadStats;
}

/** A recommendation example: predict `target` from `history` (oldest first). */
export interface RecExample {
  user: number;
  history: Int32Array;
  target: ItemIndex;
}

/** Leave-last-out: last item test, second-last validation, the rest train. */
export interface RecSplit {
  /** Per user, the training prefix (all but the last two items). */
  train: UserSequence[];
  valid: RecExample[];
  test: RecExample[];
}

export type QueryStyle = string;

export interface SearchQuery {
  item: ItemIndex;
  text: string;
  /** How the query was built ("title", "partial-title", "genre-era", "tags", "descriptive", "typo", "external"). */
  style: QueryStyle;
}

export interface QuerySplit {
  train: SearchQuery[];
  valid: SearchQuery[];
  test: SearchQuery[];
}

/** Popularity buckets: bucket id per item, from training popularity. */
export interface PopularityBuckets {
  /** Names in id order, e.g. ["head", "torso"] or ["head", "torso", "tail"]. */
  names: string[];
  /** Per item, the bucket id (index into `names`). */
  bucketOf: Uint8Array;
  /** Training interaction count per item. */
  counts: Int32Array;
  /** Human-readable rule used. */
  rule: string;
}

/** Everything the later stages read: the loaded data set with its splits, queries and buckets. */
export interface PreparedData {
  dataset: Dataset;
  rec: RecSplit;
  queries: QuerySplit;
  buckets: PopularityBuckets;
}

/**
 * Semantic IDs of every item in one ID space: `length` code positions per item (the tokenizer's
 * levels, plus a disambiguation position when collisions are resolved that way).
 */
export interface SemanticIdSet {
  numItems: number;
  /** Code positions per ID. */
  length: number;
  /** Distinct code values allowed at each position (e.g. [256, 256] or [256, 256, 8]). */
  cardinalities: number[];
  /** Row-major codes: codes[item * length + pos] in 0..cardinalities[pos]-1. */
  codes: Int32Array;
}
