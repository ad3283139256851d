export * from "./png";
export * from "./plots";
export * from "./display";
export * from "./progress";
export * from "./background";
export * from "./tasks";
export * from "./story";
export * from "./tiles";
