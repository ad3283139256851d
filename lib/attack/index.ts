export * from "./labels";
export * from "./dlg";
export * from "./victim";
