/**
 * AdamW (decoupled weight decay) with global-norm gradient clipping, plus the learning-rate schedule
 * (linear warmup, then linear or cosine decay to `minLrRatio` of the peak). State can be exported for
 * resumable checkpoints.
 */
import { adamwUpdate, tf } from '../backend/index';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Clip the global gradient norm to this value (0 = off; default 1). */
  clipNorm?: number;
  /** Per variable, a multiplier of the learning rate (default 1 for every variable). */
  lrScales?: number[];
}

export interface AdamWState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class AdamW {
  step = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private readonly o: Required<Omit<AdamWOptions, 'lrScales'>>;
  private readonly lrScales: number[];

  /** `decay[i]` says whether variable i gets weight decay (norm gains and position biases do not). */
  constructor(private readonly vars: tf.Variable[], private readonly decay: boolean[], opts: AdamWOptions = {}) {
    const { lrScales, ...rest } = opts;
    this.o = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, clipNorm: 1, ...rest };
    if (lrScales && lrScales.length !== vars.length) throw new Error(`AdamW: ${lrScales.length} learning-rate scales for ${vars.length} variables`);
    this.lrScales = lrScales ?? vars.map(() => 1);
    const zeroVar = (x: tf.Tensor) => {
      const z = tf.zerosLike(x);
      const v = tf.variable(z, false);
      z.dispose();
      return v;
    };
    this.m = vars.map(zeroVar);
    this.v = vars.map(zeroVar);
  }

  /**
   * One update with gradients `grads[i]` for `vars[i]`. The clipping scale stays on the device (no
   * read per step): clipNorm / max(norm, clipNorm) is 1 below the threshold and, for a clipNorm exact
   * in float32 (the default 1), the same float32 as the quotient taken in JS, so results are unchanged.
   */
  apply(grads: tf.Tensor[], lr: number): void {
    const { beta1, beta2, eps, weightDecay, clipNorm } = this.o;
    this.step += 1;
    const scale = clipNorm > 0
      ? tf.tidy(() => tf.div(clipNorm, tf.maximum(tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.mul(g, g))))), clipNorm)))
      : null;
    const bc1 = 1 - Math.pow(beta1, this.step);
    const bc2 = 1 - Math.pow(beta2, this.step);
    tf.tidy(() => {
      for (let i = 0; i < this.vars.length; i++) {
        const lrHere = lr * this.lrScales[i];
        const decayFactor = this.decay[i] && weightDecay > 0 ? 1 - lrHere * weightDecay : null;
        const [x, m, v] = adamwUpdate(this.vars[i], grads[i], this.m[i], this.v[i], scale, {
          lr: lrHere, beta1, beta2, eps, biasCorrection1: bc1, biasCorrection2: bc2, decayFactor,
        });
        this.m[i].assign(m);
        this.v[i].assign(v);
        this.vars[i].assign(x);
      }
    });
    scale?.dispose();
  }

  getState(): AdamWState {
    return {
      step: this.step,
      m: this.m.map((t) => (t.dataSync() as Float32Array).slice()),
      v: this.v.map((t) => (t.dataSync() as Float32Array).slice()),
    };
  }

  setState(s: AdamWState): void {
    if (s.m.length !== this.m.length || s.v.length !== this.v.length) {
      throw new Error(`AdamW.setState: state for ${s.m.length} variables, optimizer has ${this.m.length}`);
    }
    this.step = s.step;
    tf.tidy(() => {
      this.m.forEach((t, i) => t.assign(tf.tensor(s.m[i], t.shape, 'float32')));
      this.v.forEach((t, i) => t.assign(tf.tensor(s.v[i], t.shape, 'float32')));
    });
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}

export interface ScheduleOptions {
  peakLr: number;
  totalSteps: number;
  warmupSteps: number;
  /**
   * After warmup: linear or cosine decay over the rest of `totalSteps`; constant; or 'wsd'
   * (warmup-stable-decay): the peak until step `decayStart`, then linear decay to the minimum over
   * `decaySteps` steps, and the minimum after that.
   */
  decay: 'linear' | 'cosine' | 'constant' | 'wsd';
  /** Final learning rate as a fraction of the peak (default 0.1). */
  minLrRatio?: number;
  /** 'wsd': the last step at the peak (Infinity: not decided yet). */
  decayStart?: number;
  /** 'wsd': steps of the decay. */
  decaySteps?: number;
}

/** Learning rate at (1-based) `step`. */
export function learningRate(step: number, s: ScheduleOptions): number {
  const minRatio = s.minLrRatio ?? 0.1;
  if (s.warmupSteps > 0 && step <= s.warmupSteps) return (s.peakLr * step) / s.warmupSteps;
  if (s.decay === 'constant') return s.peakLr;
  if (s.decay === 'wsd') {
    const start = s.decayStart ?? Infinity;
    if (step <= start) return s.peakLr;
    const frac = Math.min(1, (step - start) / Math.max(1, s.decaySteps ?? 1));
    return s.peakLr * (1 - (1 - minRatio) * frac);
  }
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const frac = Math.min(1, Math.max(0, (step - s.warmupSteps) / span));
  const shape = s.decay === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * frac)) : 1 - frac;
  return s.peakLr * (minRatio + (1 - minRatio) * shape);
}
