import { lenetModel } from "./lenet";
import { linearModel } from "./linear";
import type { Model, ModelKind } from "./model";

export * from "./model";
export { linearModel, xavierUniform } from "./linear";
export { lenetModel } from "./lenet";
export { conv2d } from "./conv";

export const MODELS: readonly ModelKind[] = ["linear", "lenet"];

export function makeModel(kind: ModelKind): Model {
  return kind === "lenet" ? lenetModel() : linearModel();
}
