export * from "./png";
export * from "./plots";
export * from "./display";
export * from "./labelled";
export * from "./attacks";
export * from "./matched";
