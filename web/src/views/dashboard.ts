import { run } from "../api";
import { type Child, dateTime, h, s, table, words } from "../dom";
import { caseHash } from "../routes";

interface AgeBand {
  band: string;
  count: number;
}
interface RiskRow {
  force: string;
  riskLevel: string;
  cases: number;
  open: number;
  pastTarget: number;
  dueWithin48Hours: number;
  enforcedWithinTargetShare: number | null;
  medianDaysToEnforcement: number | null;
  backlogByAge: AgeBand[];
}
interface MonthCount {
  month: string;
  count: number;
}
interface ForceRow {
  force: string;
  monthlyReferrals: MonthCount[];
  trendPerMonth: number | null;
  projection: MonthCount[];
  newCases28Days: number;
  enforcements28Days: number;
  inactive30Days: number;
}
interface Alert {
  force: string;
  caseRef: string;
  riskLevel: string;
  reasons: string[];
}
interface ForceCount {
  force: string;
  count: number;
}
interface Oversight {
  asOf: string;
  imageViewsAvoided: ForceCount[];
  byForce: RiskRow[];
  forces: ForceRow[];
  regradeAlerts: Alert[];
  regradeAlertCount: number;
}

const TARGET_DAYS: Record<string, number> = { VERY_HIGH: 7, HIGH: 7, MEDIUM: 14, LOW: 30 };
const RISK_ORDER = ["VERY_HIGH", "HIGH", "MEDIUM", "LOW"];

/** Open cases neither past their target nor due within 48 hours (enforced ones included). */
export function withinTarget(row: RiskRow): number {
  return Math.max(0, row.open - row.pastTarget - row.dueWithin48Hours);
}

function cell(value: Child, figure: string): HTMLElement {
  return h("span", { "data-figure": figure }, value);
}

function share(value: number | null): string {
  return value === null ? "—" : `${Math.round(value * 100)}%`;
}

function days(value: number | null): string {
  return value === null ? "—" : value.toFixed(1);
}

function targetChart(force: string, rows: RiskRow[], scale: number): SVGElement {
  const width = 320;
  const label = 72;
  const barHeight = 22;
  const gap = 8;
  const unit = (width - label - 56) / Math.max(scale, 1);
  const height = rows.length * (barHeight + gap);
  const parts = rows.map((row) => `${words(row.riskLevel)}: ${withinTarget(row)} within target, ${row.dueWithin48Hours} due soon, ${row.pastTarget} past target`);
  const chart = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": `${force}: ${parts.join("; ")}`,
  });
  rows.forEach((row, i) => {
    const y = i * (barHeight + gap);
    chart.append(s("text", { x: 0, y: y + barHeight * 0.7 }, words(row.riskLevel)));
    let x = label;
    const segments: [string, number, string][] = [
      ["within", withinTarget(row), "within target"],
      ["due-soon", row.dueWithin48Hours, "due within 48 h"],
      ["past", row.pastTarget, "past target"],
    ];
    for (const [kind, count, name] of segments) {
      if (count === 0) continue;
      chart.append(s("rect", { class: kind, x, y, width: count * unit, height: barHeight }, s("title", {}, `${count} ${name}`)));
      x += count * unit;
    }
    chart.append(s("text", { x: x + 6, y: y + barHeight * 0.7 }, `${row.open} open`));
  });
  return chart;
}

function targets(byForce: RiskRow[]): HTMLElement {
  const forces = [...new Set(byForce.map((r) => r.force))].sort();
  const scale = Math.max(1, ...byForce.map((r) => r.open));
  const sorted = [...byForce].sort(
    (a, b) => a.force.localeCompare(b.force) || RISK_ORDER.indexOf(a.riskLevel) - RISK_ORDER.indexOf(b.riskLevel),
  );
  const legend = h(
    "ul",
    { class: "legend" },
    h("li", {}, h("span", { class: "swatch within" }), "within target"),
    h("li", {}, h("span", { class: "swatch due-soon" }), "due within 48 hours"),
    h("li", {}, h("span", { class: "swatch past" }), "past target"),
  );
  const charts = h(
    "div",
    { class: "grid" },
    ...forces.map((force) =>
      h("figure", { class: "card" }, h("figcaption", {}, h("strong", {}, force)), targetChart(force, sorted.filter((r) => r.force === force), scale)),
    ),
  );
  const rows = sorted.map((r) => {
    const key = `${r.force}/${r.riskLevel}`;
    return [
      r.force,
      words(r.riskLevel),
      `${TARGET_DAYS[r.riskLevel] ?? "?"} days`,
      cell(r.open, `${key}/open`),
      cell(withinTarget(r), `${key}/withinTarget`),
      cell(r.dueWithin48Hours, `${key}/dueWithin48Hours`),
      cell(r.pastTarget, `${key}/pastTarget`),
      cell(share(r.enforcedWithinTargetShare), `${key}/enforcedWithinTargetShare`),
      cell(days(r.medianDaysToEnforcement), `${key}/medianDaysToEnforcement`),
    ];
  });
  return h(
    "section",
    { "aria-labelledby": "targets" },
    h("h2", { id: "targets" }, "Enforcement targets (7, 14 and 30 days from referral)"),
    legend,
    charts,
    table(
      "Open cases against their targets, by force and risk",
      ["Force", "Risk", "Target", "Open", "Within target", "Due within 48 h", "Past target", "Enforced within target", "Median days to enforcement"],
      rows,
      "targets-table",
    ),
  );
}

function backlog(byForce: RiskRow[]): HTMLElement {
  const bands: string[] = [];
  const totals = new Map<string, Map<string, number>>();
  for (const row of byForce) {
    const force = totals.get(row.force) ?? new Map<string, number>();
    for (const { band, count } of row.backlogByAge) {
      if (!bands.includes(band)) bands.push(band);
      force.set(band, (force.get(band) ?? 0) + count);
    }
    totals.set(row.force, force);
  }
  const rows = [...totals.keys()].sort().map((force) => [
    force,
    ...bands.map((band) => cell(totals.get(force)?.get(band) ?? 0, `${force}/backlog/${band}`)),
  ]);
  return h(
    "section",
    { "aria-labelledby": "backlog" },
    h("h2", { id: "backlog" }, "Backlog by age"),
    h("p", { class: "hint" }, "Open cases by days since referral receipt."),
    table("Open cases by age, by force", ["Force", ...bands.map((b) => `${b} days`)], rows, "backlog-table"),
  );
}

function referralChart(row: ForceRow): SVGElement {
  const width = 320;
  const height = 140;
  const pad = 24;
  const points = [...row.monthlyReferrals, ...row.projection];
  const top = Math.max(1, ...points.map((p) => p.count));
  const x = (i: number): number => pad + (i * (width - 2 * pad)) / Math.max(points.length - 1, 1);
  const y = (v: number): number => height - pad - (v * (height - 2 * pad)) / top;
  const path = (series: MonthCount[], offset: number): string =>
    series.map((p, i) => `${i === 0 ? "M" : "L"}${x(i + offset).toFixed(1)},${y(p.count).toFixed(1)}`).join(" ");
  const actual = row.monthlyReferrals;
  const chart = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": `${row.force} referrals per month: ${actual.map((p) => `${p.month} ${p.count}`).join(", ")}; projected ${row.projection.map((p) => `${p.month} ${p.count.toFixed(1)}`).join(", ")}`,
  });
  chart.append(s("line", { class: "axis", x1: pad, y1: height - pad, x2: width - pad, y2: height - pad }));
  chart.append(s("text", { x: 0, y: pad - 8 }, `${Math.round(top)}`));
  if (actual.length) chart.append(s("path", { class: "actual", d: path(actual, 0) }));
  if (row.projection.length) {
    const joined = actual.length ? [actual[actual.length - 1] as MonthCount, ...row.projection] : row.projection;
    chart.append(s("path", { class: "projected", d: path(joined, Math.max(actual.length - 1, 0)) }));
  }
  actual.forEach((p, i) => chart.append(s("circle", { class: "dot", cx: x(i), cy: y(p.count), r: 3 }, s("title", {}, `${p.month}: ${p.count}`))));
  if (actual.length) chart.append(s("text", { x: pad, y: height - 6 }, actual[0]?.month ?? ""));
  const last = points[points.length - 1];
  if (last) chart.append(s("text", { x: width - pad - 44, y: height - 6 }, last.month));
  return chart;
}

function trendText(trend: number | null): string {
  if (trend === null) return "not enough months for a trend";
  const sign = trend > 0 ? "+" : "";
  return `${sign}${trend.toFixed(1)} a month`;
}

function referrals(forces: ForceRow[]): HTMLElement {
  return h(
    "section",
    { "aria-labelledby": "referrals" },
    h("h2", { id: "referrals" }, "Referrals per month, trend and projection"),
    h("p", { class: "hint" }, "Solid line: referrals received; dashed: the next 12 months on the least-squares trend."),
    h(
      "div",
      { class: "grid" },
      ...forces.map((row) =>
        h(
          "figure",
          { class: "card" },
          h("figcaption", {}, h("strong", {}, row.force), " — trend ", cell(trendText(row.trendPerMonth), `${row.force}/trendPerMonth`)),
          referralChart(row),
          h(
            "details",
            {},
            h("summary", {}, "Figures"),
            table(
              `${row.force} referrals by month`,
              ["Month", "Referrals"],
              [
                ...row.monthlyReferrals.map((p) => [p.month, cell(p.count, `${row.force}/referrals/${p.month}`)]),
                ...row.projection.map((p) => [`${p.month} (projected)`, p.count.toFixed(1)]),
              ],
            ),
          ),
        ),
      ),
    ),
  );
}

function activity(forces: ForceRow[]): HTMLElement {
  const rows = forces.map((f) => [
    f.force,
    cell(f.newCases28Days, `${f.force}/newCases28Days`),
    cell(f.enforcements28Days, `${f.force}/enforcements28Days`),
    cell(f.inactive30Days, `${f.force}/inactive30Days`),
  ]);
  return h(
    "section",
    { "aria-labelledby": "activity" },
    h("h2", { id: "activity" }, "The last 28 days, and cases gone quiet"),
    table("Activity by force", ["Force", "New cases (28 days)", "Enforcements (28 days)", "Open, inactive 30+ days"], rows, "activity-table"),
  );
}

function imagesAvoided(counts: ForceCount[]): HTMLElement {
  const rows = counts.map((c) => [c.force, cell(c.count, `${c.force}/imageViewsAvoided`)]);
  return h(
    "section",
    { "aria-labelledby": "images" },
    h("h2", { id: "images" }, "Image views avoided"),
    h("p", { class: "hint" }, "Images an officer need not view: another case had already graded them."),
    rows.length ? table("Images not viewed again, by force", ["Force", "Images"], rows, "images-table") : h("p", {}, "None yet."),
  );
}

function alerts(list: Alert[], count: number): HTMLElement {
  const rows = list.map((a) => [
    h("a", { href: caseHash(a.force, a.caseRef) }, a.caseRef),
    a.force,
    words(a.riskLevel),
    h("ul", { class: "reasons" }, ...a.reasons.map((r) => h("li", {}, r))),
  ]);
  return h(
    "section",
    { "aria-labelledby": "regrade" },
    h("h2", { id: "regrade" }, `Regrade alerts (${count})`),
    h(
      "p",
      { class: "hint" },
      "Cases graded low or medium that carry signs of higher risk",
      count > list.length ? `: the ${list.length} with the most signs.` : ".",
    ),
    list.length ? table("Cases to regrade", ["Case", "Force", "Graded", "Signs"], rows, "regrade-table") : h("p", {}, "None."),
  );
}

/** The coordinators' dashboard: every figure as the API gives it, in charts and tables. */
export async function dashboard(force: string | null): Promise<HTMLElement> {
  const filter = force ? { forces: [force] } : null;
  const { oversight } = await run<{ oversight: Oversight }>("Oversight", { filter });
  const all = await allForces(oversight, force);
  const picker = h(
    "select",
    { id: "force-filter" },
    h("option", { value: "" }, "All forces"),
    ...all.map((f) => h("option", { value: f, selected: f === force }, f)),
  );
  picker.addEventListener("change", () => {
    window.location.hash = picker.value ? `#/dashboard/${picker.value}` : "#/dashboard";
  });
  return h(
    "section",
    {},
    h("h1", {}, "Regional oversight"),
    h("p", { class: "muted" }, `Figures as of ${dateTime(oversight.asOf)} UTC.`),
    h("label", { for: "force-filter" }, "Force"),
    picker,
    targets(oversight.byForce),
    backlog(oversight.byForce),
    referrals(oversight.forces),
    activity(oversight.forces),
    imagesAvoided(oversight.imageViewsAvoided),
    alerts(oversight.regradeAlerts, oversight.regradeAlertCount),
  );
}

let knownForces: string[] = [];

async function allForces(oversight: Oversight, filtered: string | null): Promise<string[]> {
  if (!filtered) knownForces = oversight.forces.map((f) => f.force).sort();
  return knownForces.length ? knownForces : [filtered ?? ""].filter(Boolean);
}
