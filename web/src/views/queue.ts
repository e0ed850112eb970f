import { run } from "../api";
import { h, table, words } from "../dom";
import { caseHash } from "../routes";

interface Prioritised {
  force: string;
  caseRef: string;
  riskLevel: string;
  score: number;
  reasons: string[];
}

/** The analyst's workbench: the most concerning open cases first, with why. */
export async function priorityQueue(): Promise<HTMLElement> {
  const { priorityQueue: queue } = await run<{ priorityQueue: Prioritised[] }>("PriorityQueue", { first: 50 });
  const rows = queue.map((item, index) => [
    String(index + 1),
    h("a", { href: caseHash(item.force, item.caseRef) }, item.caseRef),
    item.force,
    words(item.riskLevel),
    h("span", { class: "num" }, item.score.toFixed(1)),
    h("ul", { class: "reasons" }, ...item.reasons.map((reason) => h("li", {}, reason))),
  ]);
  return h(
    "section",
    {},
    h("h1", {}, "Priority queue"),
    h("p", { class: "muted" }, "Open cases you may see, most concerning first. Select a case to open it."),
    queue.length
      ? table("Cases by priority", ["#", "Case", "Force", "Risk", "Score", "Why"], rows, "priority-queue")
      : h("p", {}, "No open cases."),
  );
}
