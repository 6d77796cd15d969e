/**
 * The bi-encoder's tower chosen on the validation split (option `towerChoice`, lib/embed/biencoder.ts).
 * Both towers, the hashed n-gram tower and the frozen-features adapter, are trained with the same
 * seed on the same data; each is evaluated by dense retrieval (lib/eval/retrieval.ts) on the
 * VALIDATION split, never on test, and the one with the higher score is kept:
 *   search      validation search Recall@30
 *   multitask   mean of validation search and rec Recall@30
 * A tie keeps the hashed tower. The returned model is the chosen training's, its `info.towerChoice`
 * recording both candidates' validation scores and the choice (the embedding stage stores it;
 * results.json and notebook 01 show it). It lives here, not in lib/embed, because it needs the
 * evaluation code of lib/eval, a layer above lib/embed.
 */
import { evaluateRetrieval, type RetrievalOptions } from '../eval/retrieval';
import { splitTowerOptions, trainBiEncoder, TOWERS, type BiEncoderOptions, type BiEncoderTower, type ContrastiveObjective, type TowerChoiceOptions } from '../embed/biencoder';
import type { BiEncoderTrainer } from '../embed/index';
import type { EmbeddingModel } from '../embed/embeddingModel';
import type { PreparedData } from '../types';

const WHERE = 'lib/pipeline/towerChoice.ts';

/** The metric of the rule and the split it is measured on. */
export const TOWER_CHOICE_METRIC = 'recall@30';
export const TOWER_CHOICE_SPLIT = 'valid';

/** Validation Recall@30 of one trained tower per task (null: the model has no query encoder). */
export interface ValidScores {
  search: number | null;
  rec: number | null;
}

export interface TowerCandidate {
  tower: BiEncoderTower;
  /** The training's method (its info.method). */
  method: string;
  valid: ValidScores;
  /** The rule's score of these validation scores. */
  score: number;
  chosen: boolean;
  /** Of this training: its best epoch, its seconds in all and in optimizer steps. */
  bestEpoch: number | null;
  seconds: number | null;
  stepSeconds: number | null;
}

/** What `info.towerChoice` of a chosen model holds. */
export interface TowerChoice {
  objective: 'search' | 'multitask';
  split: typeof TOWER_CHOICE_SPLIT;
  metric: typeof TOWER_CHOICE_METRIC;
  /** The rule in words. */
  rule: string;
  chosen: BiEncoderTower;
  /** In TOWERS order (hashed first). */
  candidates: TowerCandidate[];
}

export interface TowerChoiceDeps {
  /** Trains one tower with its own options (default: `trainBiEncoder`). */
  train?: (tower: BiEncoderTower, data: PreparedData, objective: ContrastiveObjective, o: BiEncoderOptions) => Promise<EmbeddingModel>;
  /** Validation scores of a trained model (default: `validationScores` with `retrieval`). */
  score?: (model: EmbeddingModel, data: PreparedData) => Promise<ValidScores>;
  /** Dense-retrieval settings of the default scorer (user history length, recency decay, bootstrap); `split` and `ks` are the rule's. */
  retrieval?: RetrievalOptions;
}

const RULES: Record<TowerChoice['objective'], string> = {
  search: `validation search ${TOWER_CHOICE_METRIC}; a tie keeps the hashed tower`,
  multitask: `mean of validation search and rec ${TOWER_CHOICE_METRIC}; a tie keeps the hashed tower`,
};

function checkObjective(objective: ContrastiveObjective): asserts objective is TowerChoice['objective'] {
  if (objective !== 'search' && objective !== 'multitask') {
    throw new Error(`${WHERE}: the tower choice has a rule for the search and multitask objectives only, got ${JSON.stringify(objective)}`);
  }
}

/** The rule's score: search Recall@30 for search, the mean of search and rec Recall@30 for multitask. */
export function towerScore(objective: ContrastiveObjective, s: ValidScores): number {
  checkObjective(objective);
  const need = objective === 'search' ? [s.search] : [s.search, s.rec];
  if (need.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new Error(`${WHERE}: the ${objective} rule needs finite validation scores, got search ${s.search}, rec ${s.rec}`);
  }
  return (need as number[]).reduce((a, b) => a + b, 0) / need.length;
}

/** Dense retrieval on the validation split: search and rec Recall@30 (means over the split's examples). */
export async function validationScores(model: EmbeddingModel, data: PreparedData, retrieval: RetrievalOptions = {}): Promise<ValidScores> {
  const r = await evaluateRetrieval(model, data, { ...retrieval, ks: [30], split: TOWER_CHOICE_SPLIT });
  return { search: r.search?.overall[TOWER_CHOICE_METRIC].mean ?? null, rec: r.rec.overall[TOWER_CHOICE_METRIC].mean };
}

/** The higher score wins; a tie (or a hashed lead) keeps the hashed tower. */
function pick(candidates: { tower: BiEncoderTower; score: number }[]): BiEncoderTower {
  const hashed = candidates.find((c) => c.tower === 'hashed')!;
  let best = hashed;
  for (const c of candidates) if (c.score > best.score) best = c;
  return best.tower;
}

const num = (x: unknown): number | null => (typeof x === 'number' ? x : null);

/**
 * Trains both towers of `o.towerChoice` (same seed, same data), scores each on the validation split
 * and returns the chosen one's model with `info.towerChoice`. Its `info.stepSeconds` and
 * `info.seconds` are both trainings' together (what building it cost); each candidate keeps its own.
 */
export async function chooseTower(data: PreparedData, objective: ContrastiveObjective, o: TowerChoiceOptions, deps: TowerChoiceDeps = {}): Promise<EmbeddingModel> {
  checkObjective(objective);
  const t0 = Date.now();
  const split = splitTowerOptions(o);
  const train = deps.train ?? ((_tower, d, obj, opts) => trainBiEncoder(d, obj, opts));
  const score = deps.score ?? ((m, d) => validationScores(m, d, deps.retrieval));
  const trained: { tower: BiEncoderTower; model: EmbeddingModel; valid: ValidScores; score: number }[] = [];
  for (const tower of TOWERS) {
    const model = await train(tower, data, objective, split[tower]);
    const valid = await score(model, data);
    trained.push({ tower, model, valid, score: towerScore(objective, valid) });
  }
  const chosen = pick(trained);
  const candidates: TowerCandidate[] = trained.map((c) => ({
    tower: c.tower,
    method: String(c.model.info.method ?? c.tower),
    valid: c.valid,
    score: c.score,
    chosen: c.tower === chosen,
    bestEpoch: num(c.model.info.bestEpoch),
    seconds: num(c.model.info.seconds),
    stepSeconds: num(c.model.info.stepSeconds),
  }));
  const choice: TowerChoice = { objective, split: TOWER_CHOICE_SPLIT, metric: TOWER_CHOICE_METRIC, rule: RULES[objective], chosen, candidates };
  const model = trained.find((c) => c.tower === chosen)!.model;
  const stepSeconds = candidates.every((c) => c.stepSeconds !== null) ? candidates.reduce((a, c) => a + c.stepSeconds!, 0) : model.info.stepSeconds;
  model.info = { ...model.info, towerChoice: choice, stepSeconds, seconds: (Date.now() - t0) / 1000 };
  return model;
}

/** Whether bi-encoder options ask for the tower choice. */
export function hasTowerChoice(o: BiEncoderOptions | undefined): o is TowerChoiceOptions {
  return (o as { towerChoice?: unknown } | undefined)?.towerChoice !== undefined;
}

/** A bi-encoder trainer for `buildEmbeddings` (`biencoderTrainer`): the tower choice where asked for, else `trainBiEncoder`. */
export function towerChoiceTrainer(deps: TowerChoiceDeps = {}): BiEncoderTrainer {
  return (data, objective, o) => (hasTowerChoice(o) ? chooseTower(data, objective, o, deps) : trainBiEncoder(data, objective, o));
}

/** The tower choice recorded in a model's (or stored embedding's) info, if any. */
export function towerChoiceOf(info: Record<string, unknown> | undefined): TowerChoice | null {
  return (info?.towerChoice as TowerChoice | undefined) ?? null;
}
