/** The models by name: the seed's Linear and the DLG paper's LeNet (MNIST); LeNet-CIFAR and the ReLU ConvNet (colour). */
import { convNetModel } from "./convnet";
import { lenetModel } from "./lenet";
import { lenetCifarModel } from "./lenet_cifar";
import { linearModel } from "./linear";
import type { Model, ModelKind } from "./model";
/** The MNIST models (what the CLIs offer today). */
export const MODELS: readonly ModelKind[] = ["linear", "lenet"];
/** The models for 3 × 32 × 32 colour images (CIFAR-10). */
export const COLOUR_MODELS: readonly ModelKind[] = ["lenet-cifar", "convnet"];

const MAKERS: Record<ModelKind, () => Model> = { linear: linearModel, lenet: lenetModel, "lenet-cifar": lenetCifarModel, convnet: convNetModel };

export function makeModel(kind: ModelKind): Model {
  return MAKERS[kind]();
}
