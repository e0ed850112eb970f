// The single page: a bar with what the signed-in person may use, and one view at a time,
// chosen by the URL fragment. Every view reads the hub through `api.ts` only.
import "./style.css";
import { ApiError } from "./api";
import { completeOidc, current, type OidcConfig, signOut } from "./auth";
import { type Child, h } from "./dom";
import { applyPalette } from "./theme";
import { caseView } from "./views/case";
import { dashboard } from "./views/dashboard";
import { priorityQueue } from "./views/queue";
import { signIn } from "./views/signin";
import { searchView } from "./views/search";
import { victimsView } from "./views/victims";

interface Route {
  pattern: RegExp;
  title: string;
  scope: string | null;
  // Cytoscape (the network view) loads only when that view is first opened.
  view: (params: string[]) => Promise<HTMLElement> | HTMLElement;
}

interface NavItem {
  hash: string;
  label: string;
  scope: string;
}

const NAV: NavItem[] = [
  { hash: "#/dashboard", label: "Oversight", scope: "oversight:read" },
  { hash: "#/queue", label: "Priority queue", scope: "cases:read" },
  { hash: "#/victims", label: "Victim identification", scope: "cases:read" },
  { hash: "#/search", label: "Search", scope: "cases:read" },
];

const ROUTES: Route[] = [
  { pattern: /^#\/dashboard(?:\/([A-Z]{2,4}))?$/, title: "Oversight", scope: "oversight:read", view: ([f]) => dashboard(f ?? null) },
  { pattern: /^#\/queue$/, title: "Priority queue", scope: "cases:read", view: () => priorityQueue() },
  { pattern: /^#\/victims$/, title: "Victim identification", scope: "cases:read", view: () => victimsView() },
  { pattern: /^#\/search$/, title: "Identifier search", scope: "cases:read", view: async () => searchView() },
  { pattern: /^#\/case\/([^/]+)\/([^/]+)$/, title: "Case", scope: null, view: ([f, r]) => caseView(f ?? "", r ?? "") },
  { pattern: /^#\/graph\/([^/]+)\/([^/]+)$/, title: "Network", scope: "cases:read", view: async ([f, r]) => (await import("./views/graph")).graphView(f ?? "", r ?? "") },
  { pattern: /^#\/no-pages$/, title: "No pages for this role", scope: null, view: () => noPages() },
];

// Where a signed-in role with none of the views' scopes lands (the operator's `admin`): without
// it, home() sent such a session back to the sign-in form, which then looked like a failure.
const NO_PAGES = "#/no-pages";

let oidc: OidcConfig | null = null;
const app = document.getElementById("app") as HTMLElement;
const main = h("main", { id: "main", tabindex: -1 });

function home(): string {
  const session = current();
  if (!session) return "#/signin";
  const first = NAV.find((item) => session.scopes.has(item.scope));
  return first?.hash ?? NO_PAGES;
}

function noPages(): HTMLElement {
  const session = current();
  const scopes = session ? [...session.scopes].join(" ") : "";
  return h(
    "section",
    {},
    h("h1", {}, "No pages for this role"),
    h(
      "p",
      { role: "status" },
      `${session?.clientId ?? "This role"} has no pages in the web UI (its scopes: ${scopes || "none"}). `,
      "Operators use the crossforce command line: ",
      h("code", {}, "crossforce keys rotate"),
      ", ",
      h("code", {}, "crossforce audit verify"),
      " (docs/operations.md).",
    ),
    h("p", {}, "Sign out and sign in as a coordinator or an analyst to use the web UI."),
  );
}

function bar(): HTMLElement {
  const session = current();
  const here = window.location.hash;
  const items = NAV.filter((item) => session?.scopes.has(item.scope)).map((item) =>
    h("li", {}, h("a", { href: item.hash, "aria-current": here.startsWith(item.hash) ? "page" : null }, item.label)),
  );
  const who: Child = session
    ? h(
        "div",
        { class: "who" },
        h("span", { "data-testid": "signed-in-as" }, `Signed in as ${session.clientId}${session.force ? ` (${session.force})` : ""}`),
        h("button", { type: "button", class: "secondary", onClick: () => leave() }, "Sign out"),
      )
    : null;
  return h("header", { class: "bar" }, h("span", { class: "brand" }, "Crossforce"), h("nav", { "aria-label": "Main" }, h("ul", {}, ...items)), who);
}

function leave(): void {
  signOut();
  window.location.hash = "#/signin";
}

function show(title: string, content: Node): void {
  document.title = `${title} — Crossforce`;
  main.replaceChildren(content);
  app.replaceChildren(bar(), main);
  content.dispatchEvent(new Event("connected"));
  main.focus();
}

async function render(): Promise<void> {
  const hash = window.location.hash || "#/";
  const session = current();
  if (!session || hash === "#/signin") {
    if (session) return void (window.location.hash = home());
    show("Sign in", signIn(oidc, () => (window.location.hash = home())));
    return;
  }
  const route = ROUTES.find((r) => r.pattern.test(hash));
  if (!route) return void (window.location.hash = home());
  if (route.scope && !session.scopes.has(route.scope)) {
    show("Not allowed", h("p", { class: "error" }, "Your role may not use this view."));
    return;
  }
  const params = (route.pattern.exec(hash) ?? []).slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p)));
  main.setAttribute("aria-busy", "true");
  try {
    show(route.title, await route.view(params as string[]));
  } catch (error) {
    if (error instanceof ApiError && error.code === "UNAUTHENTICATED") return leave();
    const message = error instanceof Error ? error.message : String(error);
    show("Error", h("p", { class: "error", role: "alert" }, `The hub refused or failed: ${message}`));
  } finally {
    main.removeAttribute("aria-busy");
  }
}

async function start(): Promise<void> {
  applyPalette();
  const config = (await fetch("/web-config.json").then((r) => r.json())) as { oidc: OidcConfig | null };
  oidc = config.oidc;
  if (oidc) {
    await completeOidc(oidc).catch((error: unknown) => console.error("sign-in failed", error));
  }
  window.addEventListener("hashchange", () => void render());
  if (current() && !window.location.hash.startsWith("#/")) window.location.hash = home();
  await render();
}

void start();
