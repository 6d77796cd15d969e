/**
 * The unigram SentencePiece tokenizer of the Universal Sentence Encoder lite, over its vocabulary
 * file (vocab.json: `[piece, log-probability]` pairs, index = token id). It reproduces the ids of the
 * tokenizer that ships with the model's JavaScript runtimes (tfjs-models' universal-sentence-encoder
 * and @energetic-ai/embeddings), including their departures from the C++ SentencePiece:
 * - input: NFKC, then "▁" before the text and in place of each space (' ' only; tabs, newlines and
 *   runs of spaces are kept, not collapsed);
 * - a position where no piece matches becomes the unknown token (id 0, one character, score 0),
 *   and runs of unknown tokens merge into one (the runtimes step back over it by the length of
 *   piece 0, "\ufffd" in USE-lite's vocabulary: one character there too);
 * - Viterbi ties go to the later start (the shorter last piece), and a lattice position whose best
 *   score is still 0 counts as unset.
 */

/**
 * `[piece, score]` per token id, as in vocab.json. USE-lite's file gives seven pieces with ':' a null
 * score (user-defined symbols); they score 0, as JavaScript's `null + x` made them in the runtimes.
 */
export type SentencePieceVocabulary = ReadonlyArray<readonly [string, number | null]>;

/** Ids 0..5 are <unk>, <s>, </s> and three spare control tokens: never produced from text. */
export const RESERVED_PIECES = 6;
export const UNKNOWN_ID = 0;
const WORD_START = '\u2581';

interface TrieNode {
  children: Map<string, TrieNode>;
  /** Token id of the piece ending here, or -1. */
  id: number;
}

export class SentencePieceTokenizer {
  private readonly root: TrieNode = { children: new Map(), id: -1 };
  /** Piece lengths in characters (code points), by token id. */
  private readonly pieceLength: Int32Array;
  private readonly score: Float64Array;

  constructor(readonly vocabulary: SentencePieceVocabulary) {
    checkVocabulary(vocabulary);
    this.pieceLength = new Int32Array(vocabulary.length);
    this.score = new Float64Array(vocabulary.length);
    vocabulary.forEach(([piece, score], id) => {
      this.pieceLength[id] = [...piece].length;
      this.score[id] = score ?? 0;
      if (id >= RESERVED_PIECES) this.insert(piece, id);
    });
    this.pieceLength[UNKNOWN_ID] = 1;
    this.score[UNKNOWN_ID] = 0;
  }

  get size(): number {
    return this.vocabulary.length;
  }

  /** Token ids of `text`; [] for the empty string. */
  encode(text: string): number[] {
    const normalized = text.normalize('NFKC');
    if (normalized.length === 0) return [];
    const chars = [...(WORD_START + normalized.replace(/ /g, WORD_START))];
    const n = chars.length;
    // best[e]: score of the best segmentation of chars[0, e); lastId[e]: its last piece.
    const best = new Float64Array(n + 1);
    const lastId = new Int32Array(n + 1);
    for (let start = 0; start < n; start++) {
      let offered = false;
      let node = this.root.children.get(chars[start]);
      for (let end = start + 1; node; end++) {
        if (node.id >= 0) {
          this.offer(best, lastId, start, end, node.id);
          offered = true;
        }
        node = end < n ? node.children.get(chars[end]) : undefined;
      }
      if (!offered) this.offer(best, lastId, start, start + 1, UNKNOWN_ID);
    }
    const reversed: number[] = [];
    for (let end = n; end > 0; end -= this.pieceLength[lastId[end]]) {
      const id = lastId[end];
      if (id === UNKNOWN_ID && reversed.length > 0 && reversed[reversed.length - 1] === UNKNOWN_ID) continue;
      reversed.push(id);
    }
    return reversed.reverse();
  }

  private offer(best: Float64Array, lastId: Int32Array, start: number, end: number, id: number): void {
    const score = this.score[id] + best[start];
    if (best[end] === 0 || score >= best[end]) {
      best[end] = score;
      lastId[end] = id;
    }
  }

  private insert(piece: string, id: number): void {
    let node = this.root;
    for (const ch of piece) {
      let next = node.children.get(ch);
      if (!next) node.children.set(ch, (next = { children: new Map(), id: -1 }));
      node = next;
    }
    node.id = id;
  }
}

function checkVocabulary(vocabulary: SentencePieceVocabulary): void {
  if (!Array.isArray(vocabulary) || vocabulary.length <= RESERVED_PIECES) {
    throw new Error(`lib/embed/sentencepiece.ts: a vocabulary is an array of more than ${RESERVED_PIECES} [piece, score] pairs`);
  }
  vocabulary.forEach((entry, id) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || entry[0].length === 0 || (entry[1] !== null && !Number.isFinite(entry[1]))) {
      throw new Error(`lib/embed/sentencepiece.ts: vocabulary entry ${id} is ${JSON.stringify(entry)}, expected [non-empty piece, finite score or null]`);
    }
  });
}
