/**
 * dgc-privacy: Deep Gradient Compression against gradient-inversion attacks, on TensorFlow.js.
 *
 * The public API, curated: everything a notebook, a script or another package needs, grouped in the
 * data-flow order of the folders (core → io → data → metrics → models → optim → threat → attack →
 * trial → viz → study → notebook; .dependency-cruiser.cjs checks it). Anything else is internal and
 * may move. `npm run docs:api` renders these with their documentation.
 */

// core: the tfjs engine, backends, random streams, the two kinds of failure
export { tf } from "./core/tf";
export { initBackend, type BackendChoice } from "./core/backend";
export { Rng } from "./core/rng";
export { ConfigError, DivergenceError } from "./core/errors";

// data
export { loadMnist, meanImage, type MnistSplit } from "./data/mnist";
export { gatherBatch, type Batch } from "./data/batcher";

// metrics: the recovery rule and readings
export { RECOVERY_MARGIN_DB } from "./metrics/readings";
export { sameIndexPsnr } from "./metrics/match";

// models
export { modelSummary, type Model, type ModelKind } from "./models/model";
export { makeModel, MODELS } from "./models/registry";

// optim: training, the DP accountant
export { communicationRows } from "./optim/train";
export { gaussianGuarantee } from "./optim/rdp";

// threat: who is attacked, what the client sends (the one defense registry), what the server knows
export { threatModel, describeThreat, type ThreatModel, type ThreatOptions, type VictimImages } from "./threat/model";
export { parseDefense, seedDefense, defenseLabel, makeChannel } from "./threat/channel/registry";
export { parseDefenseArg, DEFENSES, type DefenseSpec, type DefenseName } from "./threat/channel/defenses";

// attack
export { publicData } from "./attack/label_counts";
export { ATTACK_METHODS, ATTACK_OPTIMIZERS, defaultOptimizer, type AttackMethod, type AttackOptimizer, type AttackSpec } from "./attack/methods";

// trial: one experiment — runTrial(threat, attack) → TrialRecord; attackImage is its one-call form
export { runTrial, type TrialRecord, type TrialHooks, type AttackRecord } from "./trial/run";
export { attackImage, attackSpecOf, type AttackImageOptions } from "./trial/attack_image";
export { makeConfig, type DemoConfig } from "./trial/demo_config";
export { setupRun, loadData, runAttack, firstBatch, victimBatch, finalRecord, scheduleRecords, attackLogLine, type AttackRun } from "./trial/demo";
export { runBatchAttack, matchedLines, type BatchAttackName } from "./trial/batch";
export { runFL, setupFL } from "./trial/fl_run";

// viz: PNG grids, figures, display in a notebook
export { comparisonPng } from "./viz/compare";
export { gridPng, columnsAsImages, splitImages } from "./viz/png";
export { tileGridPng } from "./viz/tiles";
export { labelledGridPng } from "./viz/labelled";
export { matchedGridPng, matchedPsnrFigure } from "./viz/matched";
export { attackFigure, trainingFigure } from "./viz/plots";
export { attackSummaryRows, iterationGrid } from "./viz/attacks";
export { fedavgFigure, historyFigure, localStepsFigure, roundsFigure } from "./viz/federated_figures";
export { localTrace, type LocalTrace } from "./threat/federated/local";
export { showFolded, showMarkdown, showPlot, showPng, showTable } from "./viz/display";

// study: grids, summaries, frontiers
export { loadSweepData } from "./study/job";
export { readSummary } from "./study/summary";
export { bytesFigure, galleryCaption, tradeoffFigure } from "./study/figures";
export { attacksLegend, defenseGallery, frontierFigure, frontierMarkdown, frontierPoints, frontierSkipReason, frontierVerdict, galleryGrid } from "./study/frontier";
export { frontierMapFigure } from "./study/frontier_map";
export { anchorFigure, anchorMarkdown } from "./study/anchor";
export { studyConfig } from "./study/federated";
export { fedavgConfig, makeFLConfig } from "./trial/fl_config";

// notebook: live work in the background worker, the story's call-outs, the seed's published numbers
export { galleryPng, liveAttack, liveAttacks, liveBatchAttack, liveDefenseGallery, liveFederated, liveGallery, liveTraining } from "./notebook/tasks";
export { attackCallouts, attackName, attackSetting, plural, meanImageBaseline, seedDifferences, summaryPivot, trainingCallouts, trainingSetting } from "./notebook/story";
export { attackComparison, trainingComparison } from "./notebook/seed_results";
