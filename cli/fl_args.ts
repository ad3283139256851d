/**
 * The `fl` command line: dgc_demo's flags that apply to federated training (cli/args.ts, less
 * --train_epoch) plus the federated ones. A flag another branch adds to dgc_demo under the same
 * name (e.g. --victim_loss, --attack_method) is kept as dgc_demo defines it.
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import { buildCommand, parseBool, parseCommand, parseFloatPy, parseInt10, UsageError } from "./args";
import { FL_ATTACKS, FL_DEFAULTS, FL_UNUSED, resolveFLDefaults, validateFLConfig, type FLConfig } from "../lib/trial/fl_config";
import { withDefense } from "../lib/trial/demo_config";
import { INT_FIELDS } from "../lib/trial/demo_config";
import { pyNamespace, type PyValue } from "../lib/io/pyfmt";

const FL_INT_FIELDS = new Set(["clients", "rounds", "local_steps", "local_batch", "attack_round", "victim_client", "history_rounds"]);

function oneOf<T extends string>(values: readonly T[]) {
  return (s: string): T => {
    if ((values as readonly string[]).includes(s)) return s as T;
    throw new InvalidArgumentError(`invalid choice: '${s}' (choose from ${values.join(", ")})`);
  };
}

function addIfMissing(cmd: Command, opt: Option): void {
  if (!cmd.options.some((o) => o.long === opt.long)) cmd.addOption(opt);
}

export function buildFLCommand(): Command {
  const cmd = buildCommand().name("fl").description("Federated training with DGC or Momentum clients, and an honest-but-curious server's attacks at any round");
  // rounds replace epochs; commander has no removeOption, and its option list is a plain array
  for (const name of FL_UNUSED) {
    const i = cmd.options.findIndex((o) => o.long === `--${name}`);
    if (i >= 0) (cmd.options as Option[]).splice(i, 1);
  }
  const d = FL_DEFAULTS;
  const opts = [
    new Option("--clients <int>", "number of clients K").argParser(parseInt10).default(d.clients),
    new Option("--rounds <int>", "communication rounds").argParser(parseInt10).default(d.rounds),
    new Option("--local_steps <int>", "local steps per round: 1 is FedSGD, E > 1 FedAvg").argParser(parseInt10).default(d.local_steps),
    new Option("--local_batch <int>", "FedAvg: images per local step of the attacked client (default: all its --attack_batch_size images)").argParser(parseInt10),
    new Option("--local_lr <float>", "FedAvg: the local learning rate η (default: --train_lr)").argParser(parseFloatPy),
    new Option("--local_momentum <float>", "FedAvg: the local momentum μ, 0 for plain SGD").argParser(parseFloatPy).default(d.local_momentum),
    new Option("--attack_knows_order <bool>", "FedAvg: the attacker is granted the order the client walked through its images").argParser(parseBool).default(d.attack_knows_order),
    new Option("--split <kind>", "how the training set is dealt: iid or dirichlet").argParser(oneOf(["iid", "dirichlet"] as const)).default(d.split),
    new Option("--alpha <float>", "Dirichlet concentration (--split dirichlet)").argParser(parseFloatPy).default(d.alpha),
    new Option("--attack_round <int>", "the round whose upload is attacked (with --dlg_attack True)").argParser(parseInt10).default(d.attack_round),
    new Option("--victim_client <int>", "the client attacked").argParser(parseInt10).default(d.victim_client),
    new Option("--victim_loss <loss>", "what the victim back-propagates in the attacked round: sse or ce (default: the attack's assumption)").argParser(oneOf(["sse", "ce"] as const)),
    new Option("--history_rounds <int>", "rounds after --attack_round the history attacker keeps").argParser(parseInt10).default(d.history_rounds),
  ];
  for (const o of opts) addIfMissing(cmd, o);
  // dgc_demo's --attack_method, with the history attacker added (commander reads parseArg at parse time)
  const method = cmd.options.find((o) => o.long === "--attack_method");
  if (method) {
    method.argParser(oneOf(FL_ATTACKS));
    method.description = `the server's attack: ${FL_ATTACKS.join(", ")}`;
  } else {
    cmd.addOption(new Option("--attack_method <name>", `the server's attack: ${FL_ATTACKS.join(", ")}`).argParser(oneOf(FL_ATTACKS)).default(d.attack_method));
  }
  return cmd;
}

/** Parses argv (without node and the script); null when help was printed; UsageError (one line) otherwise. */
export function parseFLArgs(argv: string[]): FLConfig | null {
  const cmd = buildFLCommand();
  const o = parseCommand(cmd, argv);
  if (o === null) return null;
  const given = (k: string) => (cmd.getOptionValueSource(k) === "default" ? undefined : o[k]);
  try {
    const c = withDefense({ ...FL_DEFAULTS, ...o, seed: o.seed ?? null, data_dir: o.data_dir ?? null, defense: o.defense ?? null, local_batch: o.local_batch ?? null, local_lr: o.local_lr ?? null, attack_optimizer: o.attack_optimizer ?? FL_DEFAULTS.attack_optimizer } as FLConfig, { use_dgc: given("use_dgc"), sparsity: given("sparsity") });
    return validateFLConfig(resolveFLDefaults(c, { attack_optimizer: o.attack_optimizer, attack_lr: given("attack_lr"), attack_epoch: given("attack_epoch"), victim_loss: given("victim_loss") }, true));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The arguments as argparse's Namespace line (dgc_demo's first line), less the unused flags. */
export function flArgumentsLine(cfg: FLConfig): string {
  const fields: Record<string, PyValue> = {};
  for (const [k, v] of Object.entries(cfg)) {
    if ((FL_UNUSED as readonly string[]).includes(k)) continue;
    const isInt = FL_INT_FIELDS.has(k) || INT_FIELDS.has(k as never);
    fields[k] = typeof v === "number" && isInt ? { int: v } : (v as PyValue);
  }
  return pyNamespace(fields);
}
