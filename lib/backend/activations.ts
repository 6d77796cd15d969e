/**
 * Activations written for the wasm backend's speed profile: tanh is about 13x slower than sigmoid
 * there, and 0.5 * (1 + tanh(u)) = sigmoid(2u) exactly, so the tanh form of GELU is written with
 * sigmoid.
 */
import * as tf from '@tensorflow/tfjs';

const GELU_SCALE = 2 * Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

/** GELU, tanh approximation: x * sigmoid(2 * sqrt(2/pi) * (x + 0.044715 x^3)). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.square(x), x), GELU_CUBIC)), GELU_SCALE);
    return tf.mul(x, tf.sigmoid(inner)) as T;
  });
}

/** The textbook tanh form, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): a reference for tests. */
export function geluTanhReference<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), GELU_CUBIC)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner))) as T;
  });
}
