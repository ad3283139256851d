/**
 * DGC's local gradient clipping, g · c / max(‖g‖, c) per tensor. Written from elementary ops so
 * that an attacker can apply it to its dummy gradient and still differentiate through it.
 */
import { tf } from "../core/tf";

export function clipByNorm(g: tf.Tensor, maxNorm: number): tf.Tensor {
  const norm = tf.sqrt(tf.sum(tf.square(g)));
  return tf.mul(g, tf.div(maxNorm, tf.maximum(norm, maxNorm)));
}
