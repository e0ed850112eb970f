import { ApiError, run } from "../api";
import { type Child, dateTime, h, s, table, words } from "../dom";
import { current } from "../auth";
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
interface MonthBand {
  month: string;
  low: number;
  high: number;
}
interface ForceRow {
  force: string;
  monthlyReferrals: MonthCount[];
  trendPerMonth: number | null;
  projection: MonthCount[];
  projectionBand: MonthBand[];
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
interface Target {
  riskLevel: string;
  days: number;
}
interface CaseRow {
  force: string;
  caseRef: string;
  riskLevel: string;
  team: string | null;
  daysWaiting: number | null;
  lastActivityAt: string | null;
}
interface Page<T> {
  totalCount: number;
  edges: { node: T }[];
  pageInfo?: { hasNextPage: boolean; endCursor: string | null };
}
interface Oversight {
  asOf: string;
  targets: Target[];
  imageViewsAvoided: ForceCount[];
  byForce: RiskRow[];
  forces: ForceRow[];
  oldest: Page<CaseRow>;
  devicesAwaiting: { totalCount: number };
  regradeAlertCount: number;
}
interface DelayBand {
  band: string;
  minDays: number;
  maxDays: number | null;
  count: number;
}
interface Activity {
  force: string;
  received: number;
  enforcements: { method: string; count: number }[];
  arrests: number;
  outcomes: { kind: string; count: number }[];
  resolved: number;
  timeToEnforcement: DelayBand[];
}
interface EnforcedRow {
  force: string;
  caseRef: string;
  riskLevel: string;
  team: string | null;
  daysToEnforcement: number;
  firstEnforcementAt: string;
}
interface ForceDay {
  date: string;
  force: string;
  open: number;
  pastTarget: number;
}

/** Days to enforcement per risk level, as the region's case rules set them. */
let targetDays: Record<string, number> = {};
const DAY_MS = 86_400_000;
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

function targetsText(): string {
  const days = [...new Set(Object.values(targetDays))].sort((a, b) => a - b);
  if (!days.length) return "days from referral";
  const listed = days.length > 1 ? `${days.slice(0, -1).join(", ")} and ${days[days.length - 1]}` : String(days[0]);
  return `${listed} days from referral`;
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
      `${targetDays[r.riskLevel] ?? "?"} days`,
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
    h("h2", { id: "targets" }, `Enforcement targets (${targetsText()})`),
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
    h("h2", { id: "backlog" }, "Awaiting enforcement, by age"),
    h("p", { class: "hint" }, "Open cases with no enforcement action yet, by days since referral receipt."),
    histogram(bands, bands.map((band) => [...totals.values()].reduce((sum, force) => sum + (force.get(band) ?? 0), 0))),
    table("Cases awaiting enforcement by age, by force", ["Force", ...bands.map((b) => `${b} days`)], rows, "backlog-table"),
  );
}

function referralChart(row: ForceRow): SVGElement {
  const width = 320;
  const height = 140;
  const pad = 24;
  const points = [...row.monthlyReferrals, ...row.projection];
  const top = Math.max(1, ...points.map((p) => p.count), ...row.projectionBand.map((b) => b.high));
  const x = (i: number): number => pad + (i * (width - 2 * pad)) / Math.max(points.length - 1, 1);
  const y = (v: number): number => height - pad - (v * (height - 2 * pad)) / top;
  const path = (series: MonthCount[], offset: number): string =>
    series.map((p, i) => `${i === 0 ? "M" : "L"}${x(i + offset).toFixed(1)},${y(p.count).toFixed(1)}`).join(" ");
  const actual = row.monthlyReferrals;
  const band = row.projectionBand;
  const lastBand = band[band.length - 1];
  const bandText = lastBand ? `; 80% of months expected between ${lastBand.low.toFixed(1)} and ${lastBand.high.toFixed(1)} by ${lastBand.month}` : "";
  const chart = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": `${row.force} referrals per month: ${actual.map((p) => `${p.month} ${p.count}`).join(", ")}; projected ${row.projection.map((p) => `${p.month} ${p.count.toFixed(1)}`).join(", ")}${bandText}`,
  });
  chart.append(s("line", { class: "axis", x1: pad, y1: height - pad, x2: width - pad, y2: height - pad }));
  chart.append(s("text", { x: 0, y: pad - 8 }, `${Math.round(top)}`));
  if (band.length) {
    // The projection's 80% prediction interval: its highs left to right, then its lows back.
    const at = (i: number): number => x(actual.length + i);
    const edge = [
      ...band.map((b, i) => `${at(i).toFixed(1)},${y(b.high).toFixed(1)}`),
      ...band.map((b, i) => `${at(i).toFixed(1)},${y(b.low).toFixed(1)}`).reverse(),
    ];
    chart.append(s("polygon", { class: "band", points: edge.join(" ") }, s("title", {}, `80% of months expected inside: ${band.map((b) => `${b.month} ${b.low.toFixed(1)}–${b.high.toFixed(1)}`).join(", ")}`)));
    if (lastBand) chart.append(s("text", { class: "band-label", x: at(band.length - 1) - 4, y: Math.max(pad, y(lastBand.high) - 4), "text-anchor": "end" }, "80% band"));
  }
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
    h("p", { class: "hint" }, "Solid line: referrals received; dashed: the next 12 months at the force's own rate of growth (a log-linear fit); shaded: the band 80% of those months are expected inside."),
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
                ...row.projection.map((p, i) => {
                  const b = row.projectionBand[i];
                  return [`${p.month} (projected)`, b ? `${p.count.toFixed(1)} (80%: ${b.low.toFixed(1)}–${b.high.toFixed(1)})` : p.count.toFixed(1)];
                }),
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

/** Bars of counts by band; with `pick`, each bar with cases opens them (click, Enter or Space). */
function histogram(bands: string[], counts: number[], title = "Cases awaiting enforcement by age", pick?: (band: string) => void): SVGElement {
  const width = 360;
  const height = 150;
  const pad = 24;
  const top = Math.max(1, ...counts);
  const slot = (width - 2 * pad) / Math.max(bands.length, 1);
  const chart = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: pick ? "group" : "img",
    "aria-label": `${title}: ${bands.map((b, i) => `${b} days ${counts[i]}`).join(", ")}`,
  });
  chart.append(s("line", { class: "axis", x1: pad, y1: height - pad, x2: width - pad, y2: height - pad }));
  bands.forEach((band, i) => {
    const count = counts[i] ?? 0;
    const barHeight = ((height - 2 * pad) * count) / top;
    const x = pad + i * slot + 4;
    const label = `${band} days: ${count}`;
    const bar = s("rect", { class: "bar", x, y: height - pad - barHeight, width: slot - 8, height: barHeight, "data-band": band }, s("title", {}, label));
    if (pick && count > 0) {
      // A bar is a control: focusable, named, and opened as a button is.
      const open = s("g", { class: "pick", role: "button", tabindex: 0, "aria-label": `Show the ${count} cases of ${band} days`, "data-band": band });
      open.addEventListener("click", () => pick(band));
      open.addEventListener("keydown", (event) => {
        const key = (event as KeyboardEvent).key;
        if (key === "Enter" || key === " ") {
          event.preventDefault();
          pick(band);
        }
      });
      // The whole slot answers the pointer, so a short bar is still easy to hit.
      open.append(s("rect", { class: "hit", x, y: pad, width: slot - 8, height: height - 2 * pad }), bar);
      chart.append(open);
    } else {
      chart.append(bar);
    }
    chart.append(s("text", { x, y: height - 6 }, band));
    chart.append(s("text", { x, y: height - pad - barHeight - 4 }, String(count)));
  });
  return chart;
}

function keyFigures(o: Oversight): HTMLElement {
  const open = o.byForce.reduce((sum, r) => sum + r.open, 0);
  const past = o.byForce.reduce((sum, r) => sum + r.pastTarget, 0);
  const oldest = o.oldest.edges[0]?.node;
  const figure = (label: string, value: Child, name: string, detail: Child = null): HTMLElement =>
    h("div", { class: "key-figure" }, h("span", { class: "label" }, label), h("strong", { "data-key": name }, value), detail ? h("span", { class: "hint" }, detail) : null);
  return h(
    "section",
    { "aria-label": "Key figures", class: "key-figures" },
    figure("Open cases", open, "open"),
    figure("Past target", past, "pastTarget"),
    figure(
      "Oldest awaiting enforcement",
      oldest?.daysWaiting == null ? "—" : `${Math.floor(oldest.daysWaiting)} days`,
      "oldest",
      oldest ? h("a", { href: caseHash(oldest.force, oldest.caseRef) }, `${oldest.force} ${oldest.caseRef}`) : null,
    ),
    figure("Awaiting enforcement", o.oldest.totalCount, "awaitingEnforcement"),
    figure("Cases with devices awaiting examination", o.devicesAwaiting.totalCount, "devicesAwaiting"),
    figure("Regrade alerts", o.regradeAlertCount, "regradeAlerts"),
  );
}

/** Cases behind a figure: opened in place from a past-target count, pages of 25. */
class DrillDown {
  readonly element = h("section", { "aria-labelledby": "drill", class: "drill", hidden: true });

  async show(filter: Record<string, unknown> | null, cases: Record<string, unknown>, title: string, after: string | null = null): Promise<void> {
    this.element.hidden = false;
    try {
      const { oversight } = await run<{ oversight: { cases: Page<CaseRow> } }>("OversightCases", { filter, cases, after });
      const page = oversight.cases;
      const rows = page.edges.map(({ node }) => [
        h("a", { href: caseHash(node.force, node.caseRef) }, node.caseRef),
        node.force,
        words(node.riskLevel),
        node.team ? words(node.team) : "—",
        node.daysWaiting === null ? "—" : node.daysWaiting.toFixed(0),
        node.lastActivityAt ? dateTime(node.lastActivityAt) : "—",
      ]);
      const more = h("button", { type: "button", class: "secondary" }, "More cases");
      more.addEventListener("click", () => void this.show(filter, cases, title, page.pageInfo?.endCursor ?? null));
      this.element.replaceChildren(
        h("h2", { id: "drill" }, `${title} (${page.totalCount})`),
        table(title, ["Case", "Force", "Risk", "Team", "Days waiting", "Last activity"], rows, "drill-table"),
        ...(page.pageInfo?.hasNextPage ? [more] : []),
      );
      this.element.scrollIntoView({ block: "nearest" });
    } catch (error) {
      this.element.replaceChildren(h("p", { class: "error" }, error instanceof ApiError ? error.message : "The hub could not be reached."));
    }
  }

  /** The cases behind a time-to-enforcement bar: first enforced in the period after a wait in the band. */
  async showEnforced(filter: Record<string, unknown> | null, period: { from: string; to: string }, band: string, after: string | null = null): Promise<void> {
    this.element.hidden = false;
    const title = `Cases first enforced in the period after ${band} days`;
    try {
      const { oversight } = await run<{ oversight: { enforced: Page<EnforcedRow> } }>("OversightEnforced", { filter, ...period, band, after });
      const page = oversight.enforced;
      const rows = page.edges.map(({ node }) => [
        h("a", { href: caseHash(node.force, node.caseRef) }, node.caseRef),
        node.force,
        words(node.riskLevel),
        node.team ? words(node.team) : "—",
        node.daysToEnforcement.toFixed(1),
        dateTime(node.firstEnforcementAt),
      ]);
      const more = h("button", { type: "button", class: "secondary" }, "More cases");
      more.addEventListener("click", () => void this.showEnforced(filter, period, band, page.pageInfo?.endCursor ?? null));
      this.element.replaceChildren(
        h("h2", { id: "drill" }, `${title} (${page.totalCount})`),
        table(title, ["Case", "Force", "Risk", "Team", "Days to enforcement", "First enforcement"], rows, "drill-table"),
        ...(page.pageInfo?.hasNextPage ? [more] : []),
      );
      this.element.scrollIntoView({ block: "nearest" });
    } catch (error) {
      this.element.replaceChildren(h("p", { class: "error" }, error instanceof ApiError ? error.message : "The hub could not be reached."));
    }
  }
}

function drillable(drill: DrillDown, filter: Record<string, unknown> | null, byForce: RiskRow[]): void {
  // Every past-target count opens the cases behind it.
  queueMicrotask(() => {
    for (const row of byForce) {
      const cellElement = document.querySelector<HTMLElement>(`[data-figure="${row.force}/${row.riskLevel}/pastTarget"]`);
      if (!cellElement || row.pastTarget === 0 || cellElement.querySelector("button")) continue;
      const button = h("button", { type: "button", class: "link", "aria-label": `Show the ${row.pastTarget} ${row.force} ${words(row.riskLevel)} cases past target` }, String(row.pastTarget));
      button.addEventListener("click", () =>
        void drill.show(filter, { forces: [row.force], riskLevels: [row.riskLevel], pastTarget: true }, `${row.force} ${words(row.riskLevel)} cases past target`),
      );
      cellElement.replaceChildren(button);
    }
  });
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Days from referral to first enforcement for the cases first enforced in the period, summed
 * over the forces shown, each bar opening its cases. */
function timeToEnforcement(rows: Activity[], filter: Record<string, unknown> | null, period: { from: string; to: string }, drill: DrillDown): HTMLElement {
  const bands = rows[0]?.timeToEnforcement.map((b) => b.band) ?? [];
  const counts = bands.map((band) => sum(rows.map((r) => r.timeToEnforcement.find((b) => b.band === band)?.count ?? 0)));
  const pick = (band: string): void => void drill.showEnforced(filter, period, band);
  const cells = bands.map((band, i) => {
    const count = counts[i] ?? 0;
    if (!count) return cell(0, `timeToEnforcement/${band}`);
    const button = h("button", { type: "button", class: "link", "aria-label": `Show the ${count} cases first enforced after ${band} days` }, String(count));
    button.addEventListener("click", () => pick(band));
    return cell(button, `timeToEnforcement/${band}`);
  });
  return h(
    "div",
    { class: "card", "data-testid": "time-to-enforcement" },
    h("h3", {}, "Time to enforcement"),
    h("p", { class: "hint" }, "Days from referral to the first enforcement action, for the ", cell(sum(counts), "timeToEnforcement/total"), " cases first enforced in the period. Choose a bar to see its cases."),
    histogram(bands, counts, "Cases first enforced in the period, by days from referral", pick),
    table("Cases first enforced in the period, by days from referral", ["Days from referral", ...bands], [["Cases", ...cells]], "time-to-enforcement-table"),
  );
}

/** Activity over a chosen period: referrals, enforcements by method, arrests, outcomes, and
 * the time those enforced first in it had waited. */
function activityOverPeriod(filter: Record<string, unknown> | null, drill: DrillDown): HTMLElement {
  const periods: [string, number][] = [["7 days", 7], ["28 days", 28], ["90 days", 90], ["12 months", 365]];
  const choose = h("select", { id: "activity-period" }, ...periods.map(([label, d]) => h("option", { value: String(d), selected: d === 28 }, label)));
  const body = h("div", { "aria-live": "polite" });
  const load = async (): Promise<void> => {
    const to = new Date();
    const from = new Date(to.getTime() - Number(choose.value) * DAY_MS);
    try {
      const period = { from: from.toISOString(), to: to.toISOString() };
      const { oversight } = await run<{ oversight: { activity: Activity[] } }>("OversightActivity", { filter, ...period });
      const rows = oversight.activity.map((a) => [
        a.force,
        String(a.received),
        String(sum(a.enforcements.map((e) => e.count))),
        String(a.arrests),
        String(a.resolved),
        a.outcomes.filter((o) => o.count).map((o) => `${words(o.kind)} ${o.count}`).join(", ") || "—",
      ]);
      body.replaceChildren(
        table("Activity by force in the period", ["Force", "Referrals", "Enforcements", "Arrests", "Resolved", "Outcomes"], rows, "period-table"),
        timeToEnforcement(oversight.activity, filter, period, drill),
      );
    } catch (error) {
      body.replaceChildren(h("p", { class: "error" }, error instanceof ApiError ? error.message : "The hub could not be reached."));
    }
  };
  choose.addEventListener("change", () => void load());
  void load();
  return h(
    "section",
    { "aria-labelledby": "period" },
    h("h2", { id: "period" }, "Activity over a period"),
    h("label", { for: "activity-period" }, "Period"),
    choose,
    body,
  );
}

/** Past-target cases over the last 90 days, a line per force, from the kept daily history. */
function pastTargetOverTime(filter: Record<string, unknown> | null): HTMLElement {
  const holder = h("div", {}, h("p", { class: "hint" }, "Loading…"));
  const to = new Date();
  const from = new Date(to.getTime() - 90 * DAY_MS);
  const day = (d: Date): string => d.toISOString().slice(0, 10);
  void run<{ oversight: { history: ForceDay[] } }>("OversightHistory", { filter, from: day(from), to: day(to) })
    .then(({ oversight }) => holder.replaceChildren(historyChart(oversight.history)))
    .catch(() => holder.replaceChildren(h("p", { class: "error" }, "The history could not be read.")));
  return h(
    "section",
    { "aria-labelledby": "history" },
    h("h2", { id: "history" }, "Past target over the last 90 days"),
    h("p", { class: "hint" }, "Cases past their enforcement target at the end of each day, as the hub kept them."),
    holder,
  );
}

function historyChart(days: ForceDay[]): Node {
  if (!days.length) return h("p", {}, "No history kept yet.");
  const dates = [...new Set(days.map((d) => d.date))].sort();
  const forces = [...new Set(days.map((d) => d.force))].sort();
  const width = 640;
  const height = 180;
  const pad = 28;
  const top = Math.max(1, ...days.map((d) => d.pastTarget));
  const x = (i: number): number => pad + (i * (width - 2 * pad)) / Math.max(dates.length - 1, 1);
  const y = (v: number): number => height - pad - (v * (height - 2 * pad)) / top;
  const chart = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": `Cases past target from ${dates[0]} to ${dates[dates.length - 1]}: ${forces
      .map((f) => `${f} ${days.filter((d) => d.force === f).at(-1)?.pastTarget ?? 0} now`)
      .join(", ")}`,
  });
  chart.append(s("line", { class: "axis", x1: pad, y1: height - pad, x2: width - pad, y2: height - pad }));
  chart.append(s("text", { x: 0, y: pad - 8 }, String(top)));
  forces.forEach((force, n) => {
    const series = dates.map((date, i) => [i, days.find((d) => d.force === force && d.date === date)?.pastTarget] as const);
    const d = series.filter(([, v]) => v !== undefined).map(([i, v], k) => `${k === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(v ?? 0).toFixed(1)}`).join(" ");
    chart.append(s("path", { class: `series series-${n % 6}`, d }, s("title", {}, force)));
  });
  chart.append(s("text", { x: pad, y: height - 8 }, dates[0] ?? ""));
  chart.append(s("text", { x: width - pad - 70, y: height - 8 }, dates[dates.length - 1] ?? ""));
  return h("figure", {}, chart, h("figcaption", { class: "legend" }, ...forces.map((f, n) => h("span", { class: `key series-${n % 6}` }, f))));
}

/** Regrade alerts, the most pressing first, a page at a time. */
function alertPages(filter: Record<string, unknown> | null, count: number): HTMLElement {
  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary" }, "More alerts");
  let after: string | null = null;
  const load = async (): Promise<void> => {
    const { oversight } = await run<{ oversight: { alerts: Page<Alert> } }>("OversightAlerts", { filter, after });
    const page = oversight.alerts;
    body.append(
      ...page.edges.map(({ node: a }) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, h("a", { href: caseHash(a.force, a.caseRef) }, a.caseRef)),
          h("td", {}, a.force),
          h("td", {}, words(a.riskLevel)),
          h("td", {}, h("ul", { class: "reasons" }, ...a.reasons.map((r) => h("li", {}, r)))),
        ),
      ),
    );
    after = page.pageInfo?.endCursor ?? null;
    more.hidden = !page.pageInfo?.hasNextPage;
  };
  more.addEventListener("click", () => void load());
  void load();
  return h(
    "section",
    { "aria-labelledby": "regrade" },
    h("h2", { id: "regrade" }, `Regrade alerts (${count})`),
    h("p", { class: "hint" }, "Cases graded low or medium with signs of higher risk, the most severe signs first."),
    count
      ? h(
          "table",
          { "data-testid": "regrade-table" },
          h("caption", {}, "Cases to regrade"),
          h("thead", {}, h("tr", {}, ...["Case", "Force", "Graded", "Signs"].map((c) => h("th", { scope: "col" }, c)))),
          body,
        )
      : h("p", {}, "None."),
    more,
  );
}

/** The scrutiny board's report on one force, as CSV, HTML or PDF (GET /reports/{force}). */
function reportForm(forces: string[], chosen: string | null): HTMLElement {
  const force = h("select", { id: "report-force" }, ...forces.map((f) => h("option", { value: f, selected: f === chosen }, f)));
  const period = h("select", { id: "report-period" }, ...[["7d", "7 days"], ["28d", "28 days"], ["90d", "90 days"], ["365d", "12 months"]].map(([v, l]) => h("option", { value: v, selected: v === "28d" }, l)));
  const format = h("select", { id: "report-format" }, ...[["pdf", "PDF"], ["html", "HTML"], ["csv", "CSV"]].map(([v, l]) => h("option", { value: v }, l)));
  const status = h("p", { role: "status" });
  const download = h("button", { type: "button" }, "Download report");
  download.addEventListener("click", () => {
    const session = current();
    if (!session) return;
    status.textContent = "Preparing the report…";
    const url = `/reports/${encodeURIComponent(force.value)}?period=${period.value}&format=${format.value}`;
    void fetch(url, { headers: { Authorization: `Bearer ${session.token}` } })
      .then(async (response) => {
        if (!response.ok) throw new Error(((await response.json().catch(() => ({}))) as { error?: string }).error ?? `the hub answered ${response.status}`);
        const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ?? `report.${format.value}`;
        const link = h("a", { href: URL.createObjectURL(await response.blob()), download: name });
        link.click();
        status.textContent = `Downloaded ${name}.`;
      })
      .catch((error: unknown) => {
        status.textContent = `Refused: ${error instanceof Error ? error.message : "the hub could not be reached"}`;
      });
  });
  return h(
    "section",
    { "aria-labelledby": "report" },
    h("h2", { id: "report" }, "Report for the scrutiny board"),
    h("p", { class: "hint" }, "One force's activity, targets, backlog over time and overdue cases by reference: no personal data. Each report made is audited."),
    h(
      "div",
      { class: "grid" },
      h("div", {}, h("label", { for: "report-force" }, "Report on"), force),
      h("div", {}, h("label", { for: "report-period" }, "Over"), period),
      h("div", {}, h("label", { for: "report-format" }, "As"), format),
    ),
    h("div", { class: "actions" }, download),
    status,
  );
}

/** The coordinators' dashboard: key figures first, then charts and tables, each figure leading
 * to the cases behind it where it counts cases. */
export async function dashboard(force: string | null): Promise<HTMLElement> {
  const filter = force ? { forces: [force] } : null;
  const { oversight } = await run<{ oversight: Oversight }>("Oversight", { filter });
  targetDays = Object.fromEntries(oversight.targets.map((t) => [t.riskLevel, t.days]));
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
  const drill = new DrillDown();
  const view = h(
    "section",
    {},
    h("h1", {}, "Regional oversight"),
    h("p", { class: "muted" }, `Figures as of ${dateTime(oversight.asOf)} UTC.`),
    h("label", { for: "force-filter" }, "Force"),
    picker,
    keyFigures(oversight),
    targets(oversight.byForce),
    drill.element,
    activityOverPeriod(filter, drill),
    pastTargetOverTime(filter),
    backlog(oversight.byForce),
    referrals(oversight.forces),
    activity(oversight.forces),
    imagesAvoided(oversight.imageViewsAvoided),
    alertPages(filter, oversight.regradeAlertCount),
    reportForm(all, force),
  );
  view.addEventListener("connected", () => drillable(drill, filter, oversight.byForce), { once: true });
  return view;
}

let knownForces: string[] = [];

async function allForces(oversight: Oversight, filtered: string | null): Promise<string[]> {
  if (!filtered) knownForces = oversight.forces.map((f) => f.force).sort();
  return knownForces.length ? knownForces : [filtered ?? ""].filter(Boolean);
}
