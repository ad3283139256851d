/** The four numbers reported for one DLG attack: dummy data against the client's true batch. */
import { mse, psnr, ssim, type FloatArray, type ImageShape } from "./image";
import { labelAccuracy } from "./labels";

export interface AttackMetrics {
  mse: number;
  psnr: number;
  ssim: number;
  labelAcc: number;
}

export function attackMetrics(
  dummyImages: FloatArray,
  trueImages: FloatArray,
  shape: ImageShape,
  dummyLabels: Float32Array | Float64Array,
  trueLabels: Int32Array,
): AttackMetrics {
  return {
    mse: mse(dummyImages, trueImages),
    psnr: psnr(dummyImages, trueImages),
    ssim: ssim(dummyImages, trueImages, shape),
    labelAcc: labelAccuracy(dummyLabels, trueLabels),
  };
}
