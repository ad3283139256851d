/**
 * The layering of lib/, checked in `npm test` (test/app/layers.test.ts): the data flow reads top-down,
 *   core → io → data → metrics → models → optim → threat → attack → trial → viz → study → notebook
 * and a folder imports only folders before it in that list (or itself). viz draws values and records it is
 * given (it never runs an experiment), so a study may draw with it. No cycles anywhere. The
 * lib/ root holds only the entry point, index.ts; cli/ and scripts/ (the app) sit above everything,
 * and nothing in lib/ imports them or the tests.
 */
// test/fixtures/layers/lib is a deliberately bad layout that test/app/layers.test.ts runs the rules on
const LIB = "^(test/fixtures/layers/)?lib/";
const LAYERS = ["core", "io", "data", "metrics", "models", "optim", "threat", "attack", "trial", "viz", "study", "notebook"];

const upward = LAYERS.map((layer, i) => ({
  name: `no-upward-from-${layer}`,
  comment: `lib/${layer} may import only ${LAYERS.slice(0, i).join(", ") || "nothing else in lib"} (and itself)`,
  severity: "error",
  from: { path: `${LIB}${layer}/` },
  to: { path: `${LIB}(${LAYERS.slice(i + 1).join("|") || "__none__"})/` },
}));

module.exports = {
  forbidden: [
    { name: "no-cycles", severity: "error", comment: "no import cycles, type-only imports included", from: {}, to: { circular: true } },
    ...upward,
    {
      name: "lib-root-is-the-entry-point",
      comment: "lib/ holds only index.ts at its root; every other module lives in a layer folder",
      severity: "error",
      from: { path: "^lib/" },
      to: { path: "^lib/(?!index\\.ts$)[^/]+\\.ts$" },
    },
    {
      name: "known-layers-only",
      comment: "every folder under lib/ is one of the layers",
      severity: "error",
      from: {},
      to: { path: `^lib/(?!(${LAYERS.join("|")})/)[^/]+/` },
    },
    { name: "lib-not-into-app", severity: "error", comment: "lib/ never imports the CLIs, scripts or tests", from: { path: "^lib/" }, to: { path: "^(cli|scripts|test|web)/" } },
    { name: "no-index-inside-lib", severity: "error", comment: "inside lib/, import the module, not the entry point", from: { path: "^lib/.+/" }, to: { path: "^lib/index\\.ts$" } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules)/" },
    // the bad layout is cruised only when named alone (test/app/layers.test.ts)
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".js", ".json"] },
  },
};
