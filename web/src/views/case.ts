import { ApiError, run } from "../api";
import { current } from "../auth";
import { type Child, dateTime, h, words } from "../dom";
import { caseHash, graphHash } from "../routes";

interface Protected {
  state: "CLEAR" | "MASKED" | "EXISTENCE" | "UNREADABLE";
  pointer: string;
  value: string | null;
}
type P = Protected | null;
interface Suspect {
  ref: string | null;
  givenName: P;
  familyName: P;
  dateOfBirth: P;
  pncId: P;
  phones: Protected[] | null;
  emails: Protected[] | null;
  postcodes: Protected[] | null;
}
interface Device {
  ref: string | null;
  type: string | null;
  make: string | null;
  seizedAt: string | null;
  examinedAt: string | null;
  imei: P;
  serial: P;
}
interface Victim {
  ref: string | null;
  identified: boolean | null;
  ageBand: string | null;
  givenName: P;
  familyName: P;
  dateOfBirth: P;
  safeguardingReferredTo: string[] | null;
}
interface Link {
  via: string;
  force: string;
  caseRef: string;
  contact: string | null;
}
interface Case {
  force: string;
  caseRef: string;
  version: number | null;
  riskLevel: string;
  status: string;
  referralSource: string | null;
  receivedAt: string | null;
  enforcementDueAt: string | null;
  openedAt: string | null;
  enforcementAt: string | null;
  lastActivityAt: string | null;
  closedAt: string | null;
  offences: string[] | null;
  summary: P;
  referralReference: P;
  riskRationale: P;
  officer: { name: P; email: P; phone: P } | null;
  suspects: Suspect[] | null;
  devices: Device[] | null;
  victims: Victim[] | null;
  imageReview: ImageReview | null;
  links: Link[];
}

interface ImageReview {
  items: number;
  gradedElsewhere: number;
  categoriesElsewhere: { category: string; count: number }[];
}

interface Owner {
  force: string;
  caseRef: string;
}

const revealDialog = (() => {
  let dialog: HTMLDialogElement | null = null;
  return (): HTMLDialogElement => {
    dialog ??= document.body.appendChild(h("dialog", { id: "reveal-dialog", "aria-labelledby": "reveal-title" }));
    return dialog;
  };
})();

/** Asks for the purpose, then reveals one field; the value replaces the mask in `slot`. */
function askToReveal(owner: Owner, label: string, field: Protected, slot: HTMLElement, opener: HTMLElement): void {
  const dialog = revealDialog();
  const status = h("div", { role: "alert" });
  const purpose = h("input", { id: "purpose", name: "purpose", required: true, maxlength: 500, autocomplete: "off", "aria-describedby": "purpose-hint" });
  const submit = h("button", { type: "submit" }, "Reveal");
  const cancel = h("button", { type: "button", class: "secondary", onClick: () => dialog.close() }, "Cancel");
  const form = h(
    "form",
    { novalidate: true },
    h("h2", { id: "reveal-title" }, `Reveal ${label}`),
    h("p", {}, `Case ${owner.force} / ${owner.caseRef}. The audit log records who revealed which field, when, and why.`),
    h("label", { for: "purpose" }, "Purpose"),
    h("p", { id: "purpose-hint", class: "hint" }, "Why you need this value, in a short sentence (e.g. arrest planning for tomorrow)."),
    purpose,
    status,
    h("div", { class: "actions" }, submit, cancel),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    status.replaceChildren();
    const stated = purpose.value.trim();
    if (!stated) {
      status.append(h("p", { class: "error" }, "State a purpose: a reveal needs one."));
      purpose.focus();
      return;
    }
    submit.disabled = true;
    run<{ reveal: string | null }>("Reveal", { ...owner, field: field.pointer, purpose: stated })
      .then(({ reveal }) => {
        slot.replaceChildren(h("span", { "data-revealed": field.pointer }, reveal ?? "—"), h("span", { class: "state" }, "revealed"));
        dialog.close();
        slot.focus();
      })
      .catch((error: unknown) => {
        const message = error instanceof ApiError ? error.message : "The hub could not be reached.";
        status.append(h("p", { class: "error" }, `Refused: ${message}`));
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  dialog.replaceChildren(form);
  dialog.addEventListener("close", () => opener.isConnected && opener.focus(), { once: true });
  dialog.showModal();
  purpose.focus();
}

function protectedValue(owner: Owner, label: string, field: P): Child {
  if (!field) return h("span", { class: "muted" }, "not shared");
  const slot = h("span", { tabindex: -1, "data-field": field.pointer, "data-state": field.state });
  switch (field.state) {
    case "CLEAR":
      slot.append(field.value ?? "—");
      break;
    case "MASKED": {
      const canReveal = current()?.scopes.has("sensitive:reveal") ?? false;
      slot.append(h("span", { class: "masked", "aria-label": "masked" }, "••••••"));
      if (canReveal) {
        const button: HTMLButtonElement = h("button", { type: "button", class: "secondary", "aria-label": `Reveal ${label}` }, "Reveal");
        button.addEventListener("click", () => askToReveal(owner, label, field, slot, button));
        slot.append(" ", button);
      }
      break;
    }
    case "EXISTENCE":
      slot.append(h("span", { class: "muted" }, "held by the owning force — call its officer"));
      break;
    default:
      slot.append(h("span", { class: "muted" }, "cannot be read"));
  }
  return slot;
}

function facts(pairs: [string, Child][]): HTMLElement {
  const dl = h("dl", { class: "facts" });
  for (const [term, value] of pairs) dl.append(h("dt", {}, term), h("dd", {}, value));
  return dl;
}

function list(owner: Owner, label: string, values: Protected[] | null): Child {
  if (!values) return h("span", { class: "muted" }, "not shared");
  if (!values.length) return "none";
  return h("ul", { class: "reasons" }, ...values.map((v, i) => h("li", {}, protectedValue(owner, `${label} ${i + 1}`, v))));
}

function suspects(owner: Owner, items: Suspect[]): HTMLElement {
  return h(
    "section",
    { "aria-labelledby": "suspects" },
    h("h2", { id: "suspects" }, `Suspects (${items.length})`),
    ...items.map((p, i) =>
      h(
        "div",
        { class: "card" },
        h("h3", {}, `Suspect ${p.ref ?? i + 1}`),
        facts([
          ["Given name", protectedValue(owner, "given name", p.givenName)],
          ["Family name", protectedValue(owner, "family name", p.familyName)],
          ["Date of birth", protectedValue(owner, "date of birth", p.dateOfBirth)],
          ["PNC id", protectedValue(owner, "PNC id", p.pncId)],
          ["Phones", list(owner, "phone", p.phones)],
          ["Emails", list(owner, "email", p.emails)],
          ["Postcodes", list(owner, "postcode", p.postcodes)],
        ]),
      ),
    ),
  );
}

function devices(owner: Owner, items: Device[]): HTMLElement {
  return h(
    "section",
    { "aria-labelledby": "devices" },
    h("h2", { id: "devices" }, `Devices (${items.length})`),
    ...items.map((d, i) =>
      h(
        "div",
        { class: "card" },
        h("h3", {}, `Device ${d.ref ?? i + 1}`),
        facts([
          ["Type", d.type ?? "—"],
          ["Make", d.make ?? "—"],
          ["Seized", dateTime(d.seizedAt)],
          ["Examined", d.examinedAt ? dateTime(d.examinedAt) : "awaiting examination"],
          ["IMEI", protectedValue(owner, "IMEI", d.imei)],
          ["Serial", protectedValue(owner, "serial number", d.serial)],
        ]),
      ),
    ),
  );
}

function victims(owner: Owner, items: Victim[]): HTMLElement {
  return h(
    "section",
    { "aria-labelledby": "victims" },
    h("h2", { id: "victims" }, `Victims (${items.length})`),
    ...items.map((v, i) =>
      h(
        "div",
        { class: "card" },
        h("h3", {}, `Victim ${v.ref ?? i + 1}`),
        facts([
          ["Identified", v.identified === null ? "—" : v.identified ? "yes" : "no"],
          ["Age band", v.ageBand ?? "—"],
          ["Given name", protectedValue(owner, "victim's given name", v.givenName)],
          ["Family name", protectedValue(owner, "victim's family name", v.familyName)],
          ["Date of birth", protectedValue(owner, "victim's date of birth", v.dateOfBirth)],
          ["Safeguarding referred to", v.safeguardingReferredTo?.length ? v.safeguardingReferredTo.join(", ") : "none recorded"],
        ]),
      ),
    ),
  );
}

/** One row per linked case, naming every kind of entity it shares with this one. */
function links(items: Link[]): HTMLElement {
  const byCase = new Map<string, { link: Link; via: string[] }>();
  for (const link of items) {
    const key = `${link.force}\u0000${link.caseRef}`;
    const entry = byCase.get(key) ?? { link, via: [] };
    entry.via.push(words(link.via));
    byCase.set(key, entry);
  }
  const body = [...byCase.values()].map(({ link: l, via }) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, h("a", { href: caseHash(l.force, l.caseRef) }, l.caseRef)),
      h("td", {}, l.force),
      h("td", {}, via.sort().join(", ")),
      h("td", {}, l.contact ?? "—"),
    ),
  );
  return h(
    "section",
    { "aria-labelledby": "links" },
    h("h2", { id: "links" }, `Links to other cases (${byCase.size})`),
    items.length
      ? h(
          "table",
          { "data-testid": "links-table" },
          h("caption", {}, "Cases that share a person, device, account, address or image with this one"),
          h("thead", {}, h("tr", {}, ...["Case", "Force", "Shared", "Whom to call"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, ...body),
        )
      : h("p", {}, "No other case shares an entity with this one."),
  );
}

/** Counts and grades only: the hub holds hashes, and the UI never shows an image. */
function imageReview(review: ImageReview): HTMLElement {
  const grades = review.categoriesElsewhere.map((c) => `category ${c.category}: ${c.count}`).join(", ");
  return h(
    "section",
    { "aria-labelledby": "image-review" },
    h("h2", { id: "image-review" }, "Image review"),
    h(
      "p",
      { "data-testid": "image-review" },
      `${review.items} image${review.items === 1 ? "" : "s"}; ${review.gradedElsewhere} already graded in another case, no need to view again`,
      grades ? ` (${grades}).` : ".",
    ),
  );
}

/** One case as the sharing agreement shows it to the signed-in person. */
export async function caseView(force: string, caseRef: string): Promise<HTMLElement> {
  const { case: found } = await run<{ case: Case | null }>("Case", { force, caseRef });
  if (!found) {
    return h("section", {}, h("h1", {}, `Case ${force} / ${caseRef}`), h("p", {}, "No such case, or not one you may see."));
  }
  const owner = { force: found.force, caseRef: found.caseRef };
  const c = found;
  const parts: Child[] = [
    h("h1", {}, `Case ${c.force} / ${c.caseRef}`),
    current()?.scopes.has("cases:read") ? h("p", {}, h("a", { href: graphHash(c.force, c.caseRef), class: "button" }, "Explore its network")) : null,
    facts([
      ["Risk", words(c.riskLevel)],
      ["Status", words(c.status)],
      ["Referral source", c.referralSource ? c.referralSource.replaceAll("_", " ") : "—"],
      ["Referral received", dateTime(c.receivedAt)],
      ["Enforcement target", dateTime(c.enforcementDueAt)],
      ["Opened", dateTime(c.openedAt)],
      ["Enforced", dateTime(c.enforcementAt)],
      ["Last activity", dateTime(c.lastActivityAt)],
      ["Closed", dateTime(c.closedAt)],
      ["Offences", c.offences?.length ? c.offences.map(words).join(", ") : "—"],
      ["Summary", protectedValue(owner, "summary", c.summary)],
      ["Referral reference", protectedValue(owner, "referral reference", c.referralReference)],
      ["Risk rationale", protectedValue(owner, "risk rationale", c.riskRationale)],
    ]),
  ];
  if (c.officer) {
    parts.push(
      h("h2", {}, "Officer in charge"),
      facts([
        ["Name", protectedValue(owner, "officer's name", c.officer.name)],
        ["Email", protectedValue(owner, "officer's email", c.officer.email)],
        ["Phone", protectedValue(owner, "officer's phone", c.officer.phone)],
      ]),
    );
  }
  parts.push(links(c.links));
  if (c.imageReview) parts.push(imageReview(c.imageReview));
  if (c.suspects) parts.push(suspects(owner, c.suspects));
  if (c.devices) parts.push(devices(owner, c.devices));
  if (c.victims) parts.push(victims(owner, c.victims));
  return h("article", {}, ...parts);
}
