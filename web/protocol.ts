/** Messages between the page and its attack worker. */
import type { Settings } from "./settings";

/** Sets the backend up ahead of a run (a worker is started and warmed while the page is idle). */
export interface WarmRequest {
  type: "warm";
  backend: Settings["backend"];
}

export interface RunRequest {
  type: "run";
  settings: Settings;
  /** The victim's image, 784 values in [−1, 1]. */
  target: Float32Array;
  label: number;
  /** The training set's mean image (the adaptive attack's start; the recovery rule's baseline). */
  mean: Float32Array;
}

export type ToWorker = WarmRequest | RunRequest;

export type FromWorker =
  | { type: "backend"; backend: string; detail: string }
  | {
      type: "sent"; sent: number; total: number; bytes: number; denseBytes: number;
      perTensor: { name: string; sent: number; total: number }[];
      /** Linear only: per pixel, the fraction of its 10 weight-gradient entries sent. */
      mask?: Float32Array;
      baselinePsnr: number; victimLoss: string;
    }
  | { type: "progress"; iterations: number[]; distances: number[] }
  | { type: "snapshot"; iteration: number; x: Float32Array; psnr: number; ssim: number; distance: number }
  | {
      type: "done"; /** The iteration after which `x` was read. */ iteration: number; x: Float32Array; psnr: number; ssim: number; ssim8: number; signAwarePsnr: number;
      recovery: "recovered" | "recovered inverted" | "not recovered"; baselinePsnr: number; seconds: number;
      label: number; guess: number; lastSnapshot: { iteration: number; psnr: number } | null;
    }
  | { type: "error"; message: string };
