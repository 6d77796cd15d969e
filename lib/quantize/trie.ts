/**
 * Prefix trie of the valid IDs of one ID space, for constrained decoding.
 *
 * Nodes are numbered breadth-first (root 0); the children of a node are contiguous node ids
 * firstChild[v] .. firstChild[v] + childCount[v] - 1, sorted by edge token, so a lookup is a binary
 * search and the allowed-token mask of a node is a short scan. Full IDs end at depth `depth`, whose
 * nodes list their items (several when collisions were left unresolved). A decoder carries node ids
 * across steps (`root`, `child`, `children`, `itemsOfNode`) instead of re-walking prefixes; the masks
 * (`allowedNext`, `maskTensor`) serve decoders that want a dense row per beam.
 */
import { tf } from '../backend/index';
import { IdSpace, spaceSize } from './vocabulary';

const EMPTY = new Int32Array(0);

export class PrefixTrie {
  readonly depth: number;
  /** Width of the masks: the ID vocabulary size (token ids are absolute). */
  readonly maskWidth: number;
  readonly numNodes: number;
  private readonly firstChild: Int32Array;
  private readonly childCount: Int32Array;
  private readonly edgeToken: Int32Array;
  /** Leaf node -> items (CSR over leaves, indexed by node - firstLeaf). */
  private readonly firstLeaf: number;
  private readonly leafStart: Int32Array;
  private readonly leafItems: Int32Array;

  /**
   * @param space the ID space (from buildIdVocabulary).
   * @param vocabSize mask width; pass the IdVocabulary's `size` when it has several spaces
   *   (default: the end of this space's token block).
   */
  constructor(readonly space: IdSpace, vocabSize?: number) {
    const ids = space.ids;
    const L = ids.length;
    const n = ids.numItems;
    this.depth = L;
    const end = space.offset + spaceSize(space);
    this.maskWidth = vocabSize ?? end;
    if (!(Number.isInteger(this.maskWidth) && this.maskWidth >= end)) {
      throw new Error(`lib/quantize/trie.ts PrefixTrie: vocabSize ${vocabSize} must be an integer >= ${end} (end of space "${space.name}")`);
    }
    // Items sorted by code tuple.
    const order = Array.from({ length: n }, (_, i) => i);
    const codes = ids.codes;
    order.sort((a, b) => {
      for (let p = 0; p < L; p++) {
        const d = codes[a * L + p] - codes[b * L + p];
        if (d) return d;
      }
      return a - b;
    });
    // Node of each sorted item at the current depth; nodes of depth t+1 created in sorted order.
    const parentOf: number[] = [0];
    const tokenOf: number[] = [-1];
    const depthOf: number[] = [0];
    let cur = new Int32Array(n); // node at depth t of order[r]
    let nodeCount = 1;
    for (let t = 0; t < L; t++) {
      const next = new Int32Array(n);
      for (let r = 0; r < n; r++) {
        const item = order[r];
        const tok = space.positionOffsets[t] + codes[item * L + t];
        if (r > 0 && cur[r] === cur[r - 1] && tokenOf[nodeCount - 1] === tok && parentOf[nodeCount - 1] === cur[r]) {
          next[r] = nodeCount - 1;
        } else {
          parentOf.push(cur[r]);
          tokenOf.push(tok);
          depthOf.push(t + 1);
          next[r] = nodeCount++;
        }
      }
      cur = next;
    }
    this.numNodes = nodeCount;
    this.firstChild = new Int32Array(nodeCount).fill(-1);
    this.childCount = new Int32Array(nodeCount);
    this.edgeToken = Int32Array.from(tokenOf);
    for (let v = 1; v < nodeCount; v++) {
      const p = parentOf[v];
      if (this.firstChild[p] < 0) this.firstChild[p] = v;
      this.childCount[p]++;
    }
    // Leaves are the last nodes created (depth L), in sorted order.
    let firstLeaf = nodeCount;
    while (firstLeaf > 0 && depthOf[firstLeaf - 1] === L) firstLeaf--;
    this.firstLeaf = firstLeaf;
    const numLeaves = nodeCount - firstLeaf;
    this.leafStart = new Int32Array(numLeaves + 1);
    this.leafItems = new Int32Array(n);
    for (let r = 0; r < n; r++) this.leafStart[cur[r] - firstLeaf + 1]++;
    for (let q = 0; q < numLeaves; q++) this.leafStart[q + 1] += this.leafStart[q];
    for (let r = 0; r < n; r++) this.leafItems[r] = order[r]; // sorted order groups leaves contiguously
  }

  /** Child of `node` along `token`, or -1. */
  child(node: number, token: number): number {
    if (node < 0 || node >= this.numNodes) return -1;
    let lo = this.firstChild[node];
    if (lo < 0) return -1;
    let hi = lo + this.childCount[node] - 1;
    const e = this.edgeToken;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = e[mid];
      if (v === token) return mid;
      if (v < token) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Node reached by a prefix of token ids, or -1 when it is not a valid prefix. */
  nodeOf(prefix: ArrayLike<number>, start = 0, len = prefix.length - start): number {
    let v = 0;
    for (let i = 0; i < len && v >= 0; i++) v = this.child(v, prefix[start + i]);
    return v;
  }

  /** Node of the empty prefix. */
  root(): number {
    return 0;
  }

  /** Tokens allowed after `node`, ascending: a read-only view; empty for leaves and invalid nodes. */
  children(node: number): Int32Array {
    if (node < 0 || node >= this.numNodes || this.firstChild[node] < 0) return EMPTY;
    const s = this.firstChild[node];
    return this.edgeToken.subarray(s, s + this.childCount[node]);
  }

  /** Mask rows (1 = allowed) for nodes; invalid nodes (-1) and leaves get all-zero rows. */
  allowedFromNodes(nodes: Int32Array, out?: Uint8Array): Uint8Array {
    const V = this.maskWidth;
    const mask = out ?? new Uint8Array(nodes.length * V);
    if (out) {
      if (out.length !== nodes.length * V) throw new Error(`lib/quantize/trie.ts allowedFromNodes: out has ${out.length} entries, expected ${nodes.length * V}`);
      out.fill(0);
    }
    for (let b = 0; b < nodes.length; b++) {
      const v = nodes[b];
      if (v < 0 || v >= this.numNodes) continue;
      const s = this.firstChild[v];
      if (s < 0) continue;
      const cnt = this.childCount[v];
      const o = b * V;
      if (cnt > 32) {
        // Wide nodes (the root, early levels) are shared by many beams: copy a cached row.
        mask.set(this.wideRow(v), o);
        continue;
      }
      for (let c = s; c < s + cnt; c++) mask[o + this.edgeToken[c]] = 1;
    }
    return mask;
  }

  private readonly rowCache = new Map<number, Uint8Array>();

  private wideRow(v: number): Uint8Array {
    let row = this.rowCache.get(v);
    if (!row) {
      row = new Uint8Array(this.maskWidth);
      const s = this.firstChild[v];
      for (let c = s; c < s + this.childCount[v]; c++) row[this.edgeToken[c]] = 1;
      if (this.rowCache.size < 65536) this.rowCache.set(v, row);
    }
    return row;
  }

  /** Node ids of a batch of prefixes (B x t token ids, row-major). */
  nodesOf(prefixes: Int32Array, batch: number, t: number): Int32Array {
    if (prefixes.length !== batch * t) throw new Error(`lib/quantize/trie.ts: prefixes has ${prefixes.length} entries, expected batch*t = ${batch}*${t}`);
    const nodes = new Int32Array(batch);
    for (let b = 0; b < batch; b++) nodes[b] = this.nodeOf(prefixes, b * t, t);
    return nodes;
  }

  /** B x maskWidth mask of the tokens allowed after each prefix (1 = allowed). */
  allowedNext(prefixes: Int32Array, batch: number, t: number): Uint8Array {
    return this.allowedFromNodes(this.nodesOf(prefixes, batch, t));
  }

  /** Additive logit mask [B, maskWidth]: 0 where allowed, -1e9 elsewhere. */
  maskTensor(nodes: Int32Array): tf.Tensor2D {
    const V = this.maskWidth;
    const bias = new Float32Array(nodes.length * V).fill(-1e9);
    for (let b = 0; b < nodes.length; b++) {
      const v = nodes[b];
      if (v < 0 || v >= this.numNodes || this.firstChild[v] < 0) continue;
      const s = this.firstChild[v];
      for (let c = s; c < s + this.childCount[v]; c++) bias[b * V + this.edgeToken[c]] = 0;
    }
    return tf.tensor2d(bias, [nodes.length, V]);
  }

  /** Items whose full ID is exactly these tokens (empty when none). */
  itemsAt(tokens: ArrayLike<number>): number[] {
    if (tokens.length !== this.depth) return [];
    return this.itemsOfNode(this.nodeOf(tokens));
  }

  /** Items whose full ID ends at `node` (several when IDs collide; empty for other nodes). */
  itemsOfNode(node: number): number[] {
    if (node < this.firstLeaf || node >= this.numNodes) return [];
    const q = node - this.firstLeaf;
    return Array.from(this.leafItems.subarray(this.leafStart[q], this.leafStart[q + 1]));
  }
}
