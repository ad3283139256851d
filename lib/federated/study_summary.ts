/**
 * The federated study's records read back: every record as one JSON array, and the Markdown tables
 * of docs/federated.md (training; then per attack, sparsity × attacked round).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { median } from "../sweep/summary";
import { FL_ATTACKS } from "./config";
import type { StudyAttackRecord, StudyTrainRecord } from "./study";

export function loadStudy(out: string): { attacks: StudyAttackRecord[]; trains: StudyTrainRecord[] } {
  const recs = readdirSync(out).filter((f) => f.endsWith(".json")).map((f) => JSON.parse(readFileSync(join(out, f), "utf8")) as StudyAttackRecord | StudyTrainRecord);
  return { attacks: recs.filter((r): r is StudyAttackRecord => r.kind === "attack"), trains: recs.filter((r): r is StudyTrainRecord => r.kind === "train") };
}

const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
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
  const ss = uniq([...attacks.map((a) => a.sparsity), ...trains.map((t) => t.sparsity)]);
  if (trains.length) {
    const dense = median(trains.filter((t) => t.sparsity === 0).map((t) => t.upBytesPerRound));
    lines.push(`Training, ${trains[0].rounds.length} rounds (seeds: ${uniq(trains.map((t) => t.seed)).join(", ")})`, "");
    lines.push("| sparsity | test acc after the rounds, median (min–max) | bytes up per client per round | ratio | bytes down per client per round |", "|---|---|---|---|---|");
    for (const s of ss) {
      const t = trains.filter((x) => x.sparsity === s);
      if (!t.length) continue;
      const up = median(t.map((x) => x.upBytesPerRound))!;
      lines.push(`| ${s} | ${spread(t.map((x) => x.testAccuracy), 3)} | ${spread(t.map((x) => x.upBytesPerRound), 0)} | ${dense && up ? `${(dense / up).toFixed(0)}×` : "–"} | ${t[0].downBytesPerRound} |`);
    }
    lines.push("");
  }
  const rounds = uniq(attacks.map((a) => a.round));
  for (const attack of FL_ATTACKS.filter((a) => attacks.some((r) => r.attack === a))) {
    const mine = attacks.filter((a) => a.attack === attack);
    const its = attack === "analytic" ? "closed form" : `${mine[0].iterations} iterations${attack === "history" ? " per inversion" : ""}`;
    lines.push(`Attack \`${attack}\` (victim loss ${mine[0].victimLoss}, ${its}): PSNR in dB, median (min–max), recovered of seeds${attack === "history" ? "; first leak round, median" : ""}`, "");
    lines.push(`| sparsity | ${rounds.map((r) => `round ${r}`).join(" | ")} |`, `|---|${rounds.map(() => "---").join("|")}|`);
    for (const s of ss) {
      const cells = rounds.map((r) => {
        const xs = mine.filter((a) => a.sparsity === s && a.round === r);
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
