import { lenetModel } from "./lenet";
import { linearModel } from "./linear";
import type { Model, ModelKind } from "./model";

export * from "./model";
export { linearModel, xavierUniform } from "./linear";
export { lenetModel } from "./lenet";
export { conv2d, conv2dFirstOrder, FIRST_ORDER_ROUTES } from "./conv";
export { subpixelFilter, subpixelInputGrad, subpixelPlan, type SubpixelPlan } from "./conv_subpixel";
export { crossEntropyJS, crossEntropyOp, type CrossEntropyJS } from "./cross_entropy";

export const MODELS: readonly ModelKind[] = ["linear", "lenet"];

export function makeModel(kind: ModelKind): Model {
  return kind === "lenet" ? lenetModel() : linearModel();
}
