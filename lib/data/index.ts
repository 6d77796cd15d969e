/** The data layer: MovieLens loading, synthetic catalogue, splits, search queries, popularity buckets. */
export { DataFileError, parseCsvText, csvField } from './csv';
export { readRatings, type RatingColumns } from './ratingsReader';
export { parseMovieTitle, type ParsedTitle } from './titles';
export {
  loadMovieLens,
  loadMovieLensText,
  itemText,
  PAPER_TARGET_INTERACTIONS,
  type LoadMovieLensOptions,
  type MovieLensDataset,
  type MovieLensLoadStats,
  type PaperScaleOptions,
} from './movielens';
export { resolveMovieLensDir, ensureMovieLens, fetchMovieLens, defaultMovieLensRoot, MOVIELENS_ARCHIVES, type MovieLensName, type FetchOptions } from './locate';
export { splitLeaveLastN, splitLeaveLastOut, trainingCounts } from './split';
export { popularityBuckets, bucketSizes, BUCKET_NAMES, type BucketOptions } from './buckets';
export { generateQueries, queriesForItem, selectQueryItems, normalizeQuery, QUERY_STYLES, type QueryGenOptions, type GeneratedQueryStyle } from './queries';
export { parseQueriesJsonl, readQueriesJsonl } from './queryImport';
export { splitQueries, type QuerySplitOptions, type QuerySplitResult } from './querySplit';
export { generateSyntheticMovieLens, writeSyntheticMovieLens, tasteClusters, type SyntheticOptions, type SyntheticMovieLens } from './synthetic';
export { prepareData, dataStats, type DataOptions, type DataSetName, type PreparedDataset, type DataStats } from './prepare';
