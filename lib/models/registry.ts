/** The models by name: the seed's Linear and the DLG paper's LeNet. */
import { lenetModel } from "./lenet";
import { linearModel } from "./linear";
import type { Model, ModelKind } from "./model";
export const MODELS: readonly ModelKind[] = ["linear", "lenet"];

export function makeModel(kind: ModelKind): Model {
  return kind === "lenet" ? lenetModel() : linearModel();
}
