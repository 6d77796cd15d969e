/**
 * Rewrites of a tfjs GraphModel's topology before it is loaded.
 *
 * `pointwiseConvsAsMatMuls`: a Conv2D with a constant 1x1 kernel [1, 1, C, D], unit strides and
 * dilations, NHWC, is a matrix product of the input's last axis with the kernel as [C, D]; it becomes
 * BatchMatMulV2 (broadcast over the leading axes) with the kernel's weight spec reshaped (the bytes
 * are the same). USE-lite projects queries, keys, values and attention outputs this way, and on the
 * wasm backend its Conv2D ran several times slower per multiply-add than the matmul kernels.
 */

/** The parts of a TensorFlow NodeDef in model.json that the rewrite reads or writes. */
interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, GraphAttr>;
}
interface GraphAttr {
  tensor?: { tensorShape?: { dim?: { size: string }[] } };
  list?: { i?: string[] };
  s?: string | number[];
  b?: boolean;
  type?: number;
}
export interface GraphTopology {
  node: GraphNode[];
}
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

function allOnes(attr: GraphAttr | undefined): boolean {
  const list = attr?.list?.i;
  return list === undefined || list.every((v) => Number(v) === 1);
}

/** The attribute's string: model.json holds it as base64 or, from older converters, as an array of bytes. */
function attrString(attr: GraphAttr | undefined): string | undefined {
  const s = attr?.s;
  if (s === undefined) return undefined;
  return (Array.isArray(s) ? Buffer.from(s) : Buffer.from(s, 'base64')).toString('utf8');
}

/**
 * Returns a rewritten copy of `topology` and `weightSpecs` and how many Conv2D nodes became
 * BatchMatMulV2; the inputs are left as they were.
 */
export function pointwiseConvsAsMatMuls(topology: GraphTopology, weightSpecs: WeightSpec[]): { topology: GraphTopology; weightSpecs: WeightSpec[]; rewritten: number } {
  const out = structuredClone(topology);
  const specs = structuredClone(weightSpecs);
  const specOf = new Map(specs.map((w) => [w.name, w]));
  const nodeOf = new Map(out.node.map((n) => [n.name, n]));
  const uses = new Map<string, number>();
  for (const n of out.node) {
    for (const i of n.input ?? []) uses.set(i.split(':')[0], (uses.get(i.split(':')[0]) ?? 0) + 1);
  }
  let rewritten = 0;
  for (const n of out.node) {
    if (n.op !== 'Conv2D' || n.input?.length !== 2) continue;
    const kernelName = n.input[1].split(':')[0];
    const kernel = nodeOf.get(kernelName);
    const spec = specOf.get(kernelName);
    const a = n.attr ?? {};
    if (kernel?.op !== 'Const' || !spec || uses.get(kernelName) !== 1) continue;
    if (spec.shape.length !== 4 || spec.shape[0] !== 1 || spec.shape[1] !== 1) continue;
    if ((attrString(a.data_format) ?? 'NHWC') !== 'NHWC' || !['VALID', 'SAME'].includes(attrString(a.padding) ?? '')) continue;
    if (!allOnes(a.strides) || !allOnes(a.dilations)) continue;
    const [, , c, d] = spec.shape;
    spec.shape = [c, d];
    const shape = kernel.attr?.value?.tensor?.tensorShape;
    if (shape) shape.dim = [{ size: String(c) }, { size: String(d) }];
    n.op = 'BatchMatMulV2';
    n.attr = { T: a.T ?? { type: 1 }, adj_x: { b: false }, adj_y: { b: false } };
    rewritten++;
  }
  return { topology: out, weightSpecs: specs, rewritten };
}
