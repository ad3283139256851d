export * from "./labels";
export * from "./objectives";
export * from "./dlg";
export * from "./adam";
export * from "./invert";
export * from "./ig";
export * from "./adaptive";
export * from "./victim";
