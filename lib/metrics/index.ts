export * from "./image";
export * from "./labels";
export * from "./attack";
export * from "./readings";
export * from "./match";
