export * from "./grid";
export * from "./record";
export * from "./job";
export * from "./runner";
export * from "./summary";
export * from "./figures";
export * from "./frontier";
export * from "./anchor";
