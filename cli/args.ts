/**
 * Command-line parsing with the original's flag names, types, defaults and boolean rule
 * (any non-empty prefix of True/False, any case), plus our own flags.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { BACKENDS } from "../lib/core/backend";
import { DEFAULTS, resolveAttackDefaults, validateConfig, withDefense, type DemoConfig } from "../lib/trial/demo_config";
import { ATTACK_METHODS, ATTACK_OPTIMIZERS } from "../lib/attack/methods";
import { VICTIM_LOSSES } from "../lib/models/losses";

export class UsageError extends Error {}

export function parseBool(s: string): boolean {
  const t = s.trim().toLowerCase();
  if (t.length > 0 && "true".startsWith(t)) return true;
  if (t.length > 0 && "false".startsWith(t)) return false;
  throw new InvalidArgumentError(`'${s}' is not a boolean (a prefix of True or False)`);
}

export function parseInt10(s: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(s)) throw new InvalidArgumentError(`invalid int value: '${s}'`);
  // beyond 2^53 − 1 neighbouring integers share one double: two different seeds would run the same
  if (!Number.isSafeInteger(Number(s))) throw new InvalidArgumentError(`'${s.trim()}' is beyond 2^53 − 1 = ${Number.MAX_SAFE_INTEGER}, the largest integer this program can tell apart`);
  return Number(s);
}

/** Python's float(): decimal or exponent form, inf, nan. Range checks come later. */
export function parseFloatPy(s: string): number {
  const t = s.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  const m = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
  if (m) return m[2].toLowerCase() === "nan" ? NaN : m[1] === "-" ? -Infinity : Infinity;
  throw new InvalidArgumentError(`invalid float value: '${s}'`);
}

function choice<T extends string>(values: readonly T[]) {
  return (s: string): T => {
    if ((values as readonly string[]).includes(s)) return s as T;
    throw new InvalidArgumentError(`invalid choice: '${s}' (choose from ${values.join(", ")})`);
  };
}

export function buildCommand(): Command {
  const d = DEFAULTS;
  return new Command("dgc_demo")
    .description("Deep Gradient Compression against the DLG attack (a TypeScript port of PaddleSleeve's dgc_demo.py)")
    .addOption(new Option("--train_epoch <int>", "epochs of normal training").argParser(parseInt10).default(d.train_epoch))
    .addOption(new Option("--train_batch_size <int>", "batch size of normal training").argParser(parseInt10).default(d.train_batch_size))
    .addOption(new Option("--train_lr <float>", "learning rate of training").argParser(parseFloatPy).default(d.train_lr))
    .addOption(new Option("--sparsity <float>", "gradient sparsity of DGC, in [0, 1)").argParser(parseFloatPy).default(d.sparsity))
    .addOption(new Option("--use_dgc <bool>", "DGCMomentum (True) or Momentum (False)").argParser(parseBool).default(d.use_dgc))
    .addOption(new Option("--dlg_attack <bool>", "run the DLG attack instead of training").argParser(parseBool).default(d.dlg_attack))
    .addOption(new Option("--attack_batch_size <int>", "batch size of the attacked data").argParser(parseInt10).default(d.attack_batch_size))
    .addOption(new Option("--attack_epoch <int>", "iterations of the attack (gd, adam), or L-BFGS steps (lbfgs): 100 unless given where L-BFGS is LeNet's default").argParser(parseInt10).default(d.attack_epoch))
    .addOption(new Option("--attack_lr <float>", "learning rate of the attack (unless given: 0.2 with gd, 1 with lbfgs, 0.1 with adam)").argParser(parseFloatPy).default(d.attack_lr))
    .addOption(new Option("--result_dir <dir>", "where attack results are saved").default(d.result_dir))
    .addOption(new Option("--return_epoch <int>", "save a result every this many iterations").argParser(parseInt10).default(d.return_epoch))
    .addOption(new Option("--window_size <int>", "iterations before DLG moves to the next sample of a batch").argParser(parseInt10).default(d.window_size))
    .addOption(new Option("--seed <int>", "seed for every random draw; same seed, same output").argParser(parseInt10))
    .addOption(new Option("--model <name>", "linear (the seed's) or lenet (the DLG paper's); on --dataset cifar10: lenet (its 3 × 32 × 32 LeNet) or convnet (a ReLU ConvNet)").argParser(choice(["linear", "lenet", "convnet"] as const)).default(d.model))
    .addOption(new Option("--backend <name>", "tfjs backend; auto picks the fastest that loads").argParser(choice(BACKENDS)).default(d.backend))
    .addOption(new Option("--data_dir <dir>", "folder with your own MNIST IDX files (raw or .gz); default: the bundled originals"))
    .addOption(new Option("--overwrite", "replace the contents of a --result_dir that holds files no earlier run wrote").default(d.overwrite))
    .addOption(new Option("--label_init <how>", "DLG dummy label start: ones (the seed's quirk) or guess (one-hot of the inferred label)").argParser(choice(["ones", "guess"] as const)).default(d.label_init))
    .addOption(new Option("--label_rule <rule>", "label inference: gram (the seed's dW^T dW rule) or idlg").argParser(choice(["gram", "idlg"] as const)).default(d.label_rule))
    .addOption(new Option("--attack_method <name>", "dlg (the seed's), idlg, ig, adaptive or analytic (Linear, one image)").argParser(choice(ATTACK_METHODS)).default(d.attack_method))
    .addOption(new Option("--attack_optimizer <name>", "gd, adam or lbfgs (default: gd for dlg, lbfgs for idlg, adam for ig/adaptive — lbfgs on LeNet, where Adam does not invert it; none for analytic)").argParser(choice([...ATTACK_OPTIMIZERS, "none"] as const)))
    .addOption(new Option("--victim_loss <loss>", "the victim's loss: sse (the seed's attack mode) or ce (cross-entropy, as training and iDLG)").argParser(choice(VICTIM_LOSSES)).default(d.victim_loss))
    .addOption(new Option("--dataset <name>", "mnist (the seed's, bundled) or cifar10 (--data_dir, $DGC_CIFAR10_DIR, or npm run fetch:cifar10)").argParser(choice(["mnist", "cifar10"] as const)).default(d.dataset))
    .addOption(new Option("--defense <name>", "what the client sends, from the defense registry: dgc:S (= --use_dgc True --sparsity S), topk:P, randk:P, gaussian:σ, gaussvar:V, laplace:V, fp16, int8, signsgd or none (default: the seed's --use_dgc/--sparsity)"))
    .helpOption("-h, --help", "show this help")
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });
}

/** commander's message on one line: "error: unknown option '--x'\n(Did you mean --y?)" → "unknown option '--x' (did you mean --y?)". */
export function oneLine(message: string): string {
  return message.replace(/^error: /, "").split("\n").map((l) => l.trim()).filter(Boolean).join(" ").replace("(Did you mean", "(did you mean");
}

/**
 * Parses argv (without node and the script). Returns null when help was printed.
 * Throws UsageError with one line for anything wrong.
 */
export function parseArgs(argv: string[]): DemoConfig | null {
  const cmd = buildCommand();
  const o = parseCommand(cmd, argv);
  if (o === null) return null;
  // the attack's optimizer and learning rate default by method and optimizer unless given
  const given = (k: string) => (cmd.getOptionValueSource(k) === "default" ? undefined : o[k]);
  try {
    const c = withDefense({ ...DEFAULTS, ...o, seed: o.seed ?? null, data_dir: o.data_dir ?? null, defense: o.defense ?? null, attack_optimizer: o.attack_optimizer ?? DEFAULTS.attack_optimizer } as DemoConfig, { use_dgc: given("use_dgc"), sparsity: given("sparsity") });
    return validateConfig(resolveAttackDefaults(c, { attack_optimizer: o.attack_optimizer, attack_lr: given("attack_lr"), attack_epoch: given("attack_epoch") }, true));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Runs commander on argv: its options, null when help was printed, UsageError (one line) otherwise. */
export function parseCommand(cmd: Command, argv: string[]): Record<string, unknown> | null {
  try {
    cmd.parse(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help") return null;
      throw new UsageError(oneLine(e.message));
    }
    throw e;
  }
  return cmd.opts();
}
