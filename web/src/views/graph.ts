// The graph explorer: a case's or entity's neighbourhood drawn with Cytoscape.js, coloured by
// force, an icon per kind of entity, existence-only entities dashed. Clicking a node (or its
// Expand button in the list beside the drawing, for keyboards and screen readers) adds its
// neighbours; two nodes' shortest path is highlighted and listed. The layout is fcose (a
// force-directed layout that keeps nodes and their labels apart), or rings by distance, or a
// tree; kinds and forces can be filtered out of both the drawing and the list.
import cytoscape, { type Core, type ElementDefinition, type LayoutOptions } from "cytoscape";
import fcose from "cytoscape-fcose";
import { ApiError, run } from "../api";
import { h, words } from "../dom";
import accountIcon from "../icons/account.svg";
import caseIcon from "../icons/case.svg";
import deviceIcon from "../icons/device.svg";
import ipIcon from "../icons/ip_address.svg";
import mediaIcon from "../icons/media.svg";
import personIcon from "../icons/person.svg";
import seriesIcon from "../icons/series.svg";
import { caseHash } from "../routes";
import { palette } from "../theme";

interface GraphNode {
  id: string;
  kind: string;
  distance: number;
  force: string | null;
  caseRef: string | null;
  riskLevel: string | null;
  heldBy: string[];
  existenceOnly: boolean;
}
interface GraphEdge {
  source: string;
  target: string;
  relation: string;
}
interface Neighbourhood {
  totalCount: number;
  truncated: boolean;
  edges: { node: GraphNode }[];
  links: GraphEdge[];
}

const ICONS: Record<string, string> = {
  CASE: caseIcon,
  PERSON: personIcon,
  DEVICE: deviceIcon,
  ACCOUNT: accountIcon,
  IP_ADDRESS: ipIcon,
  MEDIA: mediaIcon,
  SERIES: seriesIcon,
};
const PAGE = 50;
const LAYOUTS: Record<string, string> = {
  fcose: "Force-directed (fcose)",
  concentric: "Rings by distance from the start",
  breadthfirst: "Tree from the start",
};

cytoscape.use(fcose);
const CYTOSCAPE_STYLESHEET = "__________cytoscape_stylesheet";

export function nodeLabel(node: GraphNode): string {
  if (node.kind === "CASE") return `${node.force ?? "?"} ${node.caseRef ?? ""}`;
  const short = node.id.split(":")[1]?.slice(0, 6) ?? "";
  const held = node.heldBy.length ? ` · ${node.heldBy.join(", ")}` : "";
  return `${words(node.kind)} ${short}${held}${node.existenceOnly ? " (existence only)" : ""}`;
}

class Explorer {
  readonly nodes = new Map<string, GraphNode>();
  readonly edges = new Set<string>();
  readonly forces: string[] = [];
  readonly expanded = new Set<string>();
  cy!: Core;
  readonly list = h("tbody");
  readonly status = h("p", { role: "status", class: "hint" });
  readonly from = h("select", { id: "path-from" });
  readonly to = h("select", { id: "path-to" });
  readonly pathResult = h("div", { "data-testid": "path-result" });
  readonly forceLegend = h("ul", { class: "legend", "aria-label": "Force colours" });
  readonly filters = h("fieldset", { class: "filters" });
  readonly hiddenKinds = new Set<string>();
  readonly hiddenForces = new Set<string>();
  readonly onPath = new Set<string>();
  layoutName = "fcose";

  constructor(readonly container: HTMLElement) {}

  /** Cytoscape measures its container: start it once the view is in the page. */
  mount(): void {
    // Cytoscape injects a <style> element unless one with this id exists; the page's CSP
    // refuses inline styles, so style.css carries its one rule and this marks it as present.
    if (!document.getElementById(CYTOSCAPE_STYLESHEET)) {
      document.head.append(h("meta", { id: CYTOSCAPE_STYLESHEET, name: "cytoscape-style", content: "style.css" }));
    }
    this.cy = cytoscape({
      container: this.container,
      style: this.style(),
      minZoom: 0.3,
      maxZoom: 3,
      wheelSensitivity: 0.3,
    });
    this.cy.on("tap", "node", (event) => void this.expand(String(event.target.id())));
  }

  colour(force: string): string {
    if (!this.forces.includes(force)) this.forces.push(force);
    const colours = palette.forces;
    return colours[this.forces.indexOf(force) % colours.length] ?? palette.text;
  }

  /** A case, or an entity one force holds, in that force's colour; shared entities in black. */
  outline(node: GraphNode): string {
    const owner = node.force ?? (node.heldBy.length === 1 ? node.heldBy[0] : null);
    return owner ? this.colour(owner) : palette.text;
  }

  style(): cytoscape.StylesheetJson {
    return [
      {
        selector: "node",
        style: {
          label: "data(label)",
          "font-size": 11,
          color: palette.text,
          "text-valign": "bottom",
          "text-margin-y": 4,
          "text-wrap": "wrap",
          "text-max-width": "120px",
          "text-background-color": palette.background,
          "text-background-opacity": 0.85,
          "text-background-padding": "2px",
          "background-color": palette.background,
          "background-image": "data(icon)",
          "background-fit": "none",
          "background-clip": "node",
          "background-image-containment": "inside",
          "background-width": "55%",
          "background-height": "55%",
          "border-width": 3,
          "border-color": "data(colour)",
          width: 34,
          height: 34,
        },
      },
      { selector: "node[kind = 'CASE']", style: { shape: "round-rectangle", width: 44, height: 34, "border-width": 5 } },
      { selector: "node[?existenceOnly]", style: { "border-style": "dashed" } },
      { selector: "node:selected, node.on-path", style: { "overlay-color": palette.focus, "overlay-opacity": 0.6, "overlay-padding": 6 } },
      { selector: "edge", style: { width: 2, "line-color": palette.muted, "curve-style": "bezier" } },
      { selector: "edge.on-path", style: { width: 5, "line-color": palette.text } },
      { selector: ".dimmed", style: { opacity: 0.25 } },
      { selector: ".filtered", style: { display: "none" } },
    ];
  }

  add(result: Neighbourhood): number {
    const elements: ElementDefinition[] = [];
    for (const { node } of result.edges) {
      if (this.nodes.has(node.id)) {
        this.refresh(node);
        continue;
      }
      this.nodes.set(node.id, node);
      elements.push({
        group: "nodes",
        data: {
          id: node.id,
          kind: node.kind,
          label: nodeLabel(node),
          icon: ICONS[node.kind] ?? caseIcon,
          colour: this.outline(node),
          existenceOnly: node.existenceOnly,
          distance: node.distance,
        },
      });
    }
    for (const link of result.links) {
      const id = `${link.source}|${link.relation}|${link.target}`;
      if (this.edges.has(id) || !this.nodes.has(link.source) || !this.nodes.has(link.target)) continue;
      this.edges.add(id);
      elements.push({ group: "edges", data: { id, source: link.source, target: link.target, relation: link.relation } });
    }
    const first = this.cy.nodes().length === 0;
    this.cy.add(elements);
    this.applyFilters();
    this.layout(first);
    this.render();
    return elements.length;
  }

  /** Lay the visible nodes out again; fcose keeps nodes and their labels apart. */
  layout(randomize = false): void {
    const shown = this.cy.nodes().not(".filtered");
    const visible = shown.union(shown.edgesWith(shown));
    const start = this.cy.nodes("[distance = 0]");
    const options: Record<string, LayoutOptions> = {
      fcose: {
        name: "fcose", animate: false, fit: true, padding: 30, randomize,
        nodeDimensionsIncludeLabels: true, nodeSeparation: 90, idealEdgeLength: () => 110,
        nodeRepulsion: () => 9000, packComponents: true,
      } as LayoutOptions,
      concentric: {
        name: "concentric", animate: false, fit: true, padding: 30, avoidOverlap: true,
        nodeDimensionsIncludeLabels: true, minNodeSpacing: 30,
        concentric: (node: cytoscape.NodeSingular) => 10 - Number(node.data("distance")),
        levelWidth: () => 1,
      } as LayoutOptions,
      breadthfirst: {
        name: "breadthfirst", animate: false, fit: true, padding: 30, avoidOverlap: true,
        nodeDimensionsIncludeLabels: true, spacingFactor: 1.3, roots: start,
      } as LayoutOptions,
    };
    visible.layout(options[this.layoutName] ?? (options.fcose as LayoutOptions)).run();
  }

  visible(node: GraphNode): boolean {
    if (this.hiddenKinds.has(node.kind)) return false;
    const forces = node.force ? [node.force] : node.heldBy;
    return forces.length === 0 || forces.some((f) => !this.hiddenForces.has(f));
  }

  applyFilters(): void {
    for (const node of this.nodes.values()) {
      this.cy.getElementById(node.id).toggleClass("filtered", !this.visible(node));
    }
  }

  renderFilters(): void {
    const kinds = [...new Set([...this.nodes.values()].map((n) => n.kind))].sort();
    const box = (group: string, value: string, hidden: Set<string>, label: string): HTMLElement => {
      const id = `filter-${group}-${value}`;
      const input = h("input", { type: "checkbox", id, checked: !hidden.has(value) });
      input.addEventListener("change", () => {
        if (input.checked) hidden.delete(value);
        else hidden.add(value);
        this.applyFilters();
        this.layout();
        this.render();
      });
      return h("span", { class: "filter" }, input, h("label", { for: id }, label));
    };
    const choose = h("select", { id: "graph-layout" }, ...Object.entries(LAYOUTS).map(([value, label]) => h("option", { value, selected: value === this.layoutName }, label)));
    choose.addEventListener("change", () => {
      this.layoutName = choose.value;
      this.layout(true);
    });
    this.filters.replaceChildren(
      h("legend", {}, "Show"),
      h("div", { role: "group", "aria-label": "Kinds" }, ...kinds.map((k) => box("kind", k, this.hiddenKinds, words(k)))),
      h("div", { role: "group", "aria-label": "Forces" }, ...this.forces.map((f) => box("force", f, this.hiddenForces, f))),
      h("label", { for: "graph-layout" }, "Layout"),
      choose,
    );
  }

  /** A node seen again, from another start, may be known to be held by more forces. */
  refresh(node: GraphNode): void {
    const known = this.nodes.get(node.id) as GraphNode;
    const heldBy = [...new Set([...known.heldBy, ...node.heldBy])].sort();
    const merged = { ...known, heldBy, existenceOnly: known.existenceOnly && node.existenceOnly };
    this.nodes.set(node.id, merged);
    this.cy.getElementById(node.id).data({
      label: nodeLabel(merged),
      existenceOnly: merged.existenceOnly,
      colour: this.outline(merged),
    });
  }

  async load(start: Record<string, string>): Promise<Neighbourhood> {
    const { neighbourhood } = await run<{ neighbourhood: Neighbourhood }>("Neighbourhood", { start, depth: 1, first: PAGE });
    return neighbourhood;
  }

  async expand(id: string): Promise<void> {
    if (this.expanded.has(id)) return;
    this.status.textContent = "Expanding…";
    try {
      const result = await this.load({ id });
      this.expanded.add(id);
      const before = this.nodes.size;
      this.add(result);
      const more = result.totalCount > result.edges.length ? ` (${result.totalCount - result.edges.length} more not drawn)` : "";
      const added = this.nodes.size - before;
      this.status.textContent = `${added} node${added === 1 ? "" : "s"} added around ${nodeLabel(this.nodes.get(id) as GraphNode)}${more}.`;
    } catch (error) {
      this.status.textContent = error instanceof ApiError ? `Refused: ${error.message}` : "The hub could not be reached.";
    }
  }

  render(): void {
    this.forceLegend.replaceChildren(
      ...this.forces.map((force) => {
        const swatch = h("span", { class: "swatch" });
        swatch.style.backgroundColor = this.colour(force); // CSSOM: allowed by the CSP
        return h("li", {}, swatch, force);
      }),
      h("li", {}, h("span", { class: "swatch shared" }), "held by several forces"),
    );
    this.renderFilters();
    const sorted = [...this.nodes.values()]
      .filter((node) => this.visible(node))
      .sort((a, b) => a.distance - b.distance || nodeLabel(a).localeCompare(nodeLabel(b)));
    this.list.replaceChildren(
      ...sorted.map((node) => {
        const expand = h("button", { type: "button", class: "secondary", "aria-label": `Expand ${nodeLabel(node)}` }, "Expand");
        expand.disabled = this.expanded.has(node.id);
        expand.addEventListener("click", () => void this.expand(node.id));
        const name = node.kind === "CASE" && node.force && node.caseRef ? h("a", { href: caseHash(node.force, node.caseRef) }, nodeLabel(node)) : nodeLabel(node);
        return h(
          "tr",
          { "data-node": node.id, "data-on-path": this.onPath.has(node.id) ? "" : null },
          h("th", { scope: "row" }, name),
          h("td", {}, words(node.kind)),
          h("td", {}, node.force ?? (node.heldBy.join(", ") || "—")),
          h("td", {}, node.existenceOnly ? "existence only" : "—"),
          h("td", {}, expand),
        );
      }),
    );
    for (const select of [this.from, this.to]) {
      const chosen = select.value;
      select.replaceChildren(...sorted.map((node) => h("option", { value: node.id, selected: node.id === chosen }, nodeLabel(node))));
    }
  }

  async findPath(): Promise<void> {
    this.cy.elements().removeClass("on-path dimmed");
    this.onPath.clear();
    if (this.from.value === this.to.value) {
      this.pathResult.replaceChildren(h("p", { class: "error" }, "Choose two different nodes."));
      return;
    }
    const { path } = await run<{ path: GraphNode[] | null }>("Path", { start: { id: this.from.value }, end: { id: this.to.value } });
    if (!path) {
      this.pathResult.replaceChildren(h("p", {}, "No path you may see joins these two."));
      return;
    }
    this.add({ totalCount: path.length, truncated: false, edges: path.map((node) => ({ node })), links: [] });
    for (let i = 0; i < path.length; i += 1) {
      const node = path[i] as GraphNode;
      this.cy.getElementById(node.id).addClass("on-path");
      this.onPath.add(node.id);
      const next = path[i + 1];
      if (next) {
        this.cy.edges(`[source = "${node.id}"][target = "${next.id}"], [source = "${next.id}"][target = "${node.id}"]`).addClass("on-path");
      }
    }
    this.cy.elements().not(".on-path").addClass("dimmed");
    this.render();
    this.pathResult.replaceChildren(
      h("p", {}, `Path of ${path.length - 1} hops:`),
      h("ol", {}, ...path.map((node) => h("li", {}, nodeLabel(node)))),
    );
  }
}

function legend(): HTMLElement {
  return h(
    "ul",
    { class: "legend" },
    h("li", {}, "Cases: rounded squares, outlined in their force's colour"),
    h("li", {}, "Entities: circles with an icon for person, device, account, IP address, image hash or series"),
    h("li", {}, "Dashed outline: only that a force holds it is known"),
  );
}

/** The explorer around a case (`force`, `caseRef`). */
export async function graphView(force: string, caseRef: string): Promise<HTMLElement> {
  const container = h("div", { class: "cy", role: "img", "aria-label": `Network around case ${force} ${caseRef}; the table below lists the same nodes` });
  const explorer = new Explorer(container);
  const start = await explorer.load({ force, caseRef });
  const startNode = start.edges.find((edge) => edge.node.kind === "CASE" && edge.node.caseRef === caseRef);
  if (startNode) explorer.expanded.add(startNode.node.id);
  const find = h("button", { type: "button" }, "Find path");
  find.addEventListener("click", () => void explorer.findPath().catch((e: unknown) => explorer.pathResult.replaceChildren(h("p", { class: "error" }, String(e instanceof Error ? e.message : e)))));
  const view = h(
    "section",
    {},
    h("h1", {}, `Network of case ${force} / ${caseRef}`),
    legend(),
    explorer.forceLegend,
    explorer.filters,
    container,
    explorer.status,
    h(
      "table",
      { "data-testid": "graph-nodes" },
      h("caption", {}, "Nodes in the drawing, nearest first"),
      h("thead", {}, h("tr", {}, ...["Node", "Kind", "Force or held by", "Known", "Neighbours"].map((c) => h("th", { scope: "col" }, c)))),
      explorer.list,
    ),
    h("h2", {}, "Find the path between two nodes"),
    h("div", { class: "grid" }, h("div", {}, h("label", { for: "path-from" }, "From"), explorer.from), h("div", {}, h("label", { for: "path-to" }, "To"), explorer.to)),
    h("div", { class: "actions" }, find),
    explorer.pathResult,
  );
  // `main.ts` tells a view when it is in the page; only then can Cytoscape measure it.
  view.addEventListener(
    "connected",
    () => {
      explorer.mount();
      explorer.add(start);
    },
    { once: true },
  );
  return view;
}
