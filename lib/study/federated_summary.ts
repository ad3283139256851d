/**
 * The federated study's records read back: every record as one JSON array, and the Markdown tables
 * of docs/federated.md (training; then per attack, defense × attacked round).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { median } from "./summary";
import { FL_ATTACKS } from "../trial/fl_config";
import { DEFENSES, type DefenseName } from "../threat/channel/defenses";
import type { StudyAttackRecord, StudyTrainRecord } from "./federated";

export function loadStudy(out: string): { attacks: StudyAttackRecord[]; trains: StudyTrainRecord[] } {
  const recs = readdirSync(out).filter((f) => f.endsWith(".json")).map((f) => JSON.parse(readFileSync(join(out, f), "utf8")) as StudyAttackRecord | StudyTrainRecord);
  const models = [...new Set(recs.filter((r) => r.kind === "attack" || r.kind === "train").map((r) => r.model ?? "linear"))];
  if (models.length > 1) throw new Error(`${out} holds records of several models (${models.join(", ")}): one study per folder`);
  return { attacks: recs.filter((r): r is StudyAttackRecord => r.kind === "attack"), trains: recs.filter((r): r is StudyTrainRecord => r.kind === "train") };
}

const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);

/** A record's defense as `fl --defense` names it (records from before defenses have only a sparsity). */
export function recordDefense(r: Pick<StudyAttackRecord, "sparsity" | "defense">): string {
  return r.defense ?? (r.sparsity === 0 ? "none" : `dgc:${r.sparsity}`);
}

/** The defenses present, in DEFENSES order, then by strength. */
function defenseRows(labels: string[]): string[] {
  const parts = (l: string) => l.split(":") as [DefenseName, string?];
  return [...new Set(labels)].sort((a, b) => {
    const [na, sa] = parts(a);
    const [nb, sb] = parts(b);
    return DEFENSES.indexOf(na) - DEFENSES.indexOf(nb) || Number(sa ?? 0) - Number(sb ?? 0);
  });
}
const fmt = (x: number | null, d = 1) => (x === null ? "–" : x === Infinity ? "∞" : x.toFixed(d));

/** "median (min–max)" of a list, or "–". */
function spread(xs: number[], d = 1): string {
  if (!xs.length) return "–";
  return `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)})`;
}

/** Every record of a study, one JSON array (attacks, then training runs; sorted by key). */
export function studyJson(out: string): string {
  const { attacks, trains } = loadStudy(out);
  const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);
  return `[\n${[...attacks.sort(byKey), ...trains.sort(byKey)].map((r) => JSON.stringify(r)).join(",\n")}\n]\n`;
}

/** The study's tables in Markdown: training, then one table per attack (PSNR and recovered count). */
export function studyMarkdown(out: string): string {
  const { attacks, trains } = loadStudy(out);
  const lines: string[] = [];
  const ss = defenseRows([...attacks.map(recordDefense), ...trains.map(recordDefense)]);
  if ([...attacks, ...trains].some((r) => r.model === "lenet")) lines.push("Model: LeNet", "");
  if (trains.length) {
    const dense = median(trains.filter((t) => recordDefense(t) === "none").map((t) => t.upBytesPerRound));
    const eps = trains.some((t) => t.epsilon !== undefined);
    lines.push(`Training, ${trains[0].rounds.length} rounds (seeds: ${uniq(trains.map((t) => t.seed)).join(", ")})`, "");
    lines.push(`| defense | test acc after the rounds, median (min–max) | bytes up per client per round | ratio | bytes down per client per round |${eps ? " (ε, δ) per client after the rounds |" : ""}`, `|---|---|---|---|---|${eps ? "---|" : ""}`);
    for (const s of ss) {
      const t = trains.filter((x) => recordDefense(x) === s);
      if (!t.length) continue;
      const up = median(t.map((x) => x.upBytesPerRound))!;
      const e = t[0].epsilon !== undefined ? ` ε ${t[0].epsilon.toPrecision(3)}, δ ${t[0].delta} |` : eps ? " |" : "";
      lines.push(`| ${s} | ${spread(t.map((x) => x.testAccuracy), 3)} | ${spread(t.map((x) => x.upBytesPerRound), 0)} | ${dense && up ? `${(dense / up).toFixed(0)}×` : "–"} | ${t[0].downBytesPerRound} |${e}`);
    }
    lines.push("");
  }
  const rounds = uniq(attacks.map((a) => a.round));
  for (const attack of FL_ATTACKS.filter((a) => attacks.some((r) => r.attack === a))) {
    const mine = attacks.filter((a) => a.attack === attack);
    const its = attack === "analytic" ? "closed form" : `${mine[0].iterations} ${mine[0].optimizer === "lbfgs" ? "L-BFGS steps" : "iterations"}${attack === "history" ? " per inversion" : ""}`;
    lines.push(`Attack \`${attack}\` (victim loss ${mine[0].victimLoss}, ${its}): PSNR in dB, median (min–max), recovered of seeds${attack === "history" ? "; first leak round, median" : ""}`, "");
    lines.push(`| defense | ${rounds.map((r) => `round ${r}`).join(" | ")} |`, `|---|${rounds.map(() => "---").join("|")}|`);
    for (const s of ss.filter((d) => mine.some((a) => recordDefense(a) === d))) {
      const cells = rounds.map((r) => {
        const xs = mine.filter((a) => recordDefense(a) === s && a.round === r);
        if (!xs.length) return "–";
        const div = xs.filter((a) => a.diverged).length;
        const ps = xs.filter((a) => !a.diverged).map((a) => a.psnr ?? Infinity);
        const leaks = xs.filter((a) => a.firstLeakRound !== null).map((a) => a.firstLeakRound!);
        const lead = attack === "history" ? `; leaks ${leaks.length ? `@${median(leaks)}` : "never"}` : "";
        const sent = median(xs.map((a) => a.sentInRound));
        return `${spread(ps)} ${xs.filter((a) => a.recovered).length}/${xs.length}${div ? `, ${div} diverged` : ""}${lead} [sent ${fmt(sent, 0)}]`;
      });
      lines.push(`| ${s} | ${cells.join(" | ")} |`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

/** The single-round attack that recovered the most victims, then the highest median PSNR (diverged runs count as not recovered). */
function strongest(xs: readonly StudyAttackRecord[]): { attack: string; psnr: number | null; recovered: number; n: number } | null {
  let best: { attack: string; psnr: number | null; recovered: number; n: number } | null = null;
  for (const attack of new Set(xs.map((a) => a.attack))) {
    const mine = xs.filter((a) => a.attack === attack);
    const c = { attack, psnr: median(mine.filter((a) => !a.diverged).map((a) => a.psnr ?? Infinity)), recovered: mine.filter((a) => a.recovered).length, n: mine.length };
    if (!best || c.recovered > best.recovered || (c.recovered === best.recovered && (c.psnr ?? -Infinity) > (best.psnr ?? -Infinity))) best = c;
  }
  return best;
}

/**
 * The frontier at later rounds (docs/defenses.md, "Later rounds"): per defense, bytes up per client per
 * round and test accuracy after the training rounds; per attacked round, the strongest single-round attack
 * (median PSNR, victims recovered, which attack) and the history attacker's leaks; (ε, δ) under gaussian.
 */
export function laterRoundsMarkdown(out: string): string {
  const { attacks, trains } = loadStudy(out);
  const rounds = uniq(attacks.map((a) => a.round));
  const lines = [
    `| defense | bytes up / client / round | test acc after ${trains[0]?.rounds.length ?? "–"} rounds | ${rounds.map((r) => `R = ${r}: strongest single-round attack`).join(" | ")} | ${rounds.map((r) => `R = ${r}: history`).join(" | ")} | (ε, δ) per client after the rounds |`,
    `|---|---|---|${rounds.map(() => "---|").join("")}${rounds.map(() => "---|").join("")}---|`,
  ];
  for (const d of defenseRows([...attacks.map(recordDefense), ...trains.map(recordDefense)])) {
    const t = trains.filter((x) => recordDefense(x) === d);
    const single = rounds.map((r) => {
      const s = strongest(attacks.filter((a) => recordDefense(a) === d && a.round === r && a.attack !== "history"));
      return s ? `${fmt(s.psnr)} (${s.recovered}/${s.n}) ${s.attack}` : "–";
    });
    const history = rounds.map((r) => {
      const h = attacks.filter((a) => recordDefense(a) === d && a.round === r && a.attack === "history");
      if (!h.length) return "–";
      const leaks = h.filter((a) => a.firstLeakRound !== null).map((a) => a.firstLeakRound!);
      return `${leaks.length}/${h.length}${leaks.length ? ` (first leak: round ${median(leaks)}, median)` : ""}`;
    });
    const eps = t.find((x) => x.epsilon !== undefined);
    lines.push(`| ${d} | ${t.length ? fmt(median(t.map((x) => x.upBytesPerRound)), 0) : "–"} | ${t.length ? fmt(median(t.map((x) => x.testAccuracy)), 3) : "–"} | ${single.join(" | ")} | ${history.join(" | ")} | ${eps ? `ε ${eps.epsilon!.toPrecision(3)}, δ ${eps.delta}` : ""} |`);
  }
  return lines.join("\n");
}
