// Identifier search: "does any force hold this?" for an analyst with a phone number, IMEI,
// address, account, image hash or person from a new referral. Every search states its purpose
// and is audited; a client sweeping many values is refused (429) and the region alerted.
import { ApiError, run } from "../api";
import { h, words } from "../dom";
import { caseHash } from "../routes";

interface Holder {
  force: string;
  caseRef: string | null;
  contact: string | null;
}

const KINDS: Record<string, string> = {
  PHONE: "07700 900123",
  EMAIL: "name@example.com",
  IMEI: "35-209900-176148-1",
  SERIAL: "make:serial",
  IP_ADDRESS: "81.2.69.160",
  ACCOUNT: "platform:handle",
  MD5: "32 hex digits",
  SHA1: "40 hex digits",
  PDQ: "64 hex digits",
  PERSON: "given family YYYY-MM-DD",
};

function label(kind: string): string {
  return ["IMEI", "MD5", "SHA1", "PDQ"].includes(kind) ? kind.replace("SHA1", "SHA-1") : words(kind);
}

function results(holders: Holder[]): HTMLElement {
  if (!holders.length) return h("p", { "data-testid": "search-none" }, "No force you may know of holds this identifier.");
  return h(
    "table",
    { "data-testid": "search-results" },
    h("caption", {}, `${holders.length} holder${holders.length === 1 ? "" : "s"}`),
    h("thead", {}, h("tr", {}, ...["Force", "Case", "Whom to call"].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      ...holders.map((holder) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, holder.force),
          h("td", {}, holder.caseRef ? h("a", { href: caseHash(holder.force, holder.caseRef) }, holder.caseRef) : "a case (reference not shared)"),
          h("td", {}, holder.contact ?? "—"),
        ),
      ),
    ),
  );
}

/** The search form, and what the last search found. */
export function searchView(): HTMLElement {
  const kind = h("select", { id: "search-kind" }, ...Object.keys(KINDS).map((k) => h("option", { value: k }, label(k))));
  const value = h("input", { id: "search-value", type: "text", required: true, maxlength: "500", autocomplete: "off", placeholder: KINDS.PHONE });
  const purpose = h("input", { id: "search-purpose", type: "text", required: true, minlength: "10", maxlength: "500", autocomplete: "off" });
  const outcome = h("div", { role: "status", "aria-live": "polite" });
  kind.addEventListener("change", () => {
    value.placeholder = KINDS[kind.value] ?? "";
  });
  const form = h(
    "form",
    { "aria-label": "Identifier search" },
    h("label", { for: "search-kind" }, "Kind of identifier"),
    kind,
    h("label", { for: "search-value" }, "Value, as written in the referral"),
    value,
    h("label", { for: "search-purpose" }, "Purpose (audited)"),
    purpose,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Search")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    outcome.replaceChildren(h("p", {}, "Searching…"));
    void run<{ holders: Holder[] }>("Holders", { kind: kind.value, value: value.value, purpose: purpose.value })
      .then(({ holders }) => outcome.replaceChildren(results(holders)))
      .catch((error: unknown) => {
        const message = error instanceof ApiError ? error.message : "The hub could not be reached.";
        outcome.replaceChildren(h("p", { class: "error" }, `Refused: ${message}`));
      });
  });
  return h(
    "section",
    {},
    h("h1", {}, "Identifier search"),
    h(
      "p",
      { class: "muted" },
      "Does any force hold this? Write the value in any notation a force system would; it is matched as the hub links cases. Each search is audited with its purpose and the kind searched, never the value. Looking up many values in a short time is refused and alerts the region's administrators.",
    ),
    form,
    outcome,
  );
}
