// Victim identification: groups of victim records, across forces, that may be the same child
// (depicted by one image, or in one series). Only counts, grades and hashes' existence are
// shown: never an image.
import { ApiError, run } from "../api";
import { current } from "../auth";
import { dateTime, h, words } from "../dom";
import { caseHash } from "../routes";

interface GroupVictim {
  force: string;
  caseRef: string;
  ref: string | null;
  ageBand: string | null;
  identified: boolean | null;
}
interface VictimAction {
  id: string;
  kind: string;
  force: string;
  at: string;
  referredTo: string | null;
  outcome: string | null;
}
interface VictimStep {
  kind: string;
  force: string;
  officer: string | null;
  officerName: string | null;
  at: string;
  note: string | null;
  toForce: string | null;
  toOfficer: string | null;
  referredTo: string | null;
  outcome: string | null;
}
interface GroupClaim {
  force: string;
  since: string;
  stale: boolean;
  officer: string | null;
  officerName: string | null;
}
interface VictimGroup {
  id: string;
  claim: GroupClaim | null;
  actions: VictimAction[];
  history: VictimStep[];
  forces: string[];
  victims: GroupVictim[];
  unidentified: number;
  categories: string[];
  sharedImages: number;
  sharedSeries: number;
}

const AGENCIES = ["NSPCC", "CHILDRENS_SOCIAL_CARE", "MASH", "SCHOOL", "HEALTH", "OTHER"];
const OUTCOMES = ["PENDING", "ACCEPTED", "DECLINED", "CHILD_SAFEGUARDED"];

function agency(value: string): string {
  return value === "NSPCC" || value === "MASH" ? value : words(value);
}

function victimLabel(v: GroupVictim): string {
  return `${v.force} ${v.caseRef} victim ${v.ref ?? "?"}`;
}

function who(force: string, officer: string | null, name: string | null): string {
  const person = name ?? officer;
  return person ? `${force} (${person})` : force;
}

function claimText(group: VictimGroup): string {
  const claim = group.claim;
  if (!claim) return "Waiting in the queue";
  const stale = claim.stale ? " (untouched for too long: free to claim)" : "";
  return `Being worked by ${who(claim.force, claim.officer, claim.officerName)} since ${dateTime(claim.since)}${stale}`;
}

function stepText(s: VictimStep): string {
  const by = who(s.force, s.officer, s.officerName);
  const to = s.referredTo ? agency(s.referredTo) : "?";
  switch (s.kind) {
    case "CLAIMED":
      return `${by} claimed the group`;
    case "RETURNED":
      return `${by} handed the group back to the queue`;
    case "HANDED_OVER":
      return `${by} handed the group to ${s.toOfficer ? `${s.toOfficer} of ` : ""}${s.toForce ?? "?"}`;
    case "IDENTIFIED":
      return `${by} recorded an identification`;
    case "SAFEGUARDING_REFERRAL":
      return `${by} referred to ${to} — ${words(s.outcome ?? "pending")}`;
    case "REFERRAL_UPDATED":
      return `${by} updated the referral to ${to}: ${words(s.outcome ?? "pending")}`;
    default:
      return `${by}: ${words(s.kind)}`;
  }
}

function stepItem(s: VictimStep): HTMLElement {
  return h(
    "li",
    {},
    `${dateTime(s.at)}: ${stepText(s)}`,
    s.note ? h("blockquote", { class: "note" }, s.note) : null,
  );
}

class GroupCard {
  readonly element = h("section", { class: "card", "data-group": "" });
  readonly status = h("div", { role: "status" });

  constructor(
    private group: VictimGroup,
    private readonly index: number,
  ) {
    this.render();
  }

  async act(operation: string, variables: Record<string, unknown>, done: string): Promise<void> {
    this.status.replaceChildren();
    try {
      const data = await run<Record<string, VictimGroup>>(operation, { groupId: this.group.id, ...variables });
      const updated = Object.values(data)[0];
      if (updated) this.group = updated;
      this.render();
      this.status.append(h("p", {}, done));
    } catch (error) {
      const message = error instanceof ApiError ? error.message : "The hub could not be reached.";
      this.status.append(h("p", { class: "error" }, `Refused: ${message}`));
    }
  }

  referralForm(v: GroupVictim, key: string): HTMLElement {
    const to = h("select", { id: `to-${key}` }, ...AGENCIES.map((a) => h("option", { value: a }, agency(a))));
    const outcome = h("select", { id: `outcome-${key}` }, ...OUTCOMES.map((o) => h("option", { value: o }, words(o))));
    const form = h(
      "form",
      { "aria-label": `Safeguarding referral for ${victimLabel(v)}` },
      h("label", { for: `to-${key}` }, "Referred to"),
      to,
      h("label", { for: `outcome-${key}` }, "Outcome"),
      outcome,
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Record referral")),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.act(
        "RecordSafeguardingReferral",
        { victim: { force: v.force, caseRef: v.caseRef, ref: v.ref }, referredTo: to.value, outcome: outcome.value },
        `Safeguarding referral recorded for ${victimLabel(v)}.`,
      );
    });
    return form;
  }

  victimRow(v: GroupVictim, i: number): HTMLElement {
    const key = `${this.index}-${i}`;
    const canWrite = (current()?.scopes.has("victim-id:write") ?? false) && v.ref !== null;
    const identify = h("button", { type: "button", class: "secondary" }, "Record identification");
    identify.addEventListener("click", () =>
      void this.act(
        "RecordIdentification",
        { victim: { force: v.force, caseRef: v.caseRef, ref: v.ref } },
        `Identification recorded for ${victimLabel(v)}.`,
      ),
    );
    const actions = canWrite
      ? h("td", {}, identify, h("details", {}, h("summary", {}, "Safeguarding referral"), this.referralForm(v, key)))
      : h("td", {}, "—");
    return h(
      "tr",
      { "data-victim": victimLabel(v) },
      h("th", { scope: "row" }, h("a", { href: caseHash(v.force, v.caseRef) }, `${v.force} ${v.caseRef}`)),
      h("td", {}, v.ref ?? "—"),
      h("td", {}, v.ageBand ?? "—"),
      h("td", {}, v.identified === null ? "—" : v.identified ? "yes" : "no"),
      actions,
    );
  }

  handOverForm(): HTMLElement {
    const id = `hand-${this.index}`;
    const own = current()?.force;
    const to = h(
      "select",
      { id: `${id}-to` },
      h("option", { value: "" }, "the regional queue"),
      ...this.group.forces.filter((f) => f !== own).map((f) => h("option", { value: f }, f)),
    );
    const officer = h("input", { id: `${id}-officer`, type: "text", maxlength: "200" });
    const note = h("textarea", { id: `${id}-note`, maxlength: "2000", rows: "3" });
    const form = h(
      "form",
      { "aria-label": "Hand over this group" },
      h("label", { for: `${id}-to` }, "Hand to"),
      to,
      h("label", { for: `${id}-officer` }, "Officer (optional)"),
      officer,
      h("label", { for: `${id}-note` }, "Note (sealed; shown as the agreement allows)"),
      note,
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Hand over")),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const target = to.value ? { force: to.value, officer: officer.value.trim() || null } : null;
      const done = target ? `Handed to ${target.force}.` : "Handed back to the queue.";
      void this.act("HandOverVictimGroup", { to: target, note: note.value.trim() || null }, done);
    });
    return h("details", {}, h("summary", {}, "Hand over"), form);
  }

  outcomeItem(a: VictimAction, i: number): HTMLElement {
    const text = stepText({ ...a, officer: null, officerName: null, note: null, toForce: null, toOfficer: null });
    const item = h("li", {}, `${dateTime(a.at)}: ${text}`);
    const canUpdate =
      a.kind === "SAFEGUARDING_REFERRAL" &&
      a.force === current()?.force &&
      (current()?.scopes.has("victim-id:write") ?? false);
    if (!canUpdate) return item;
    const id = `update-${this.index}-${i}`;
    const outcome = h("select", { id }, ...OUTCOMES.map((o) => h("option", { value: o, selected: o === a.outcome ? "" : null }, words(o))));
    const button = h("button", { type: "button", class: "secondary" }, "Update outcome");
    button.addEventListener("click", () =>
      void this.act("UpdateSafeguardingReferral", { referralId: a.id, outcome: outcome.value }, "Referral outcome updated."),
    );
    item.append(" ", h("label", { for: id }, "New outcome"), outcome, button);
    return item;
  }

  render(): void {
    const g = this.group;
    const mine = g.claim && !g.claim.stale && g.claim.force === current()?.force;
    const claim = mine
      ? this.handOverForm()
      : h("button", { type: "button", class: "secondary" }, "Claim");
    if (!mine) {
      claim.addEventListener("click", () =>
        void this.act("ClaimVictimGroup", {}, "Claimed: you are working on this group."),
      );
    }
    const title = `Group ${this.index + 1}: ${g.forces.join(", ")} — ${g.unidentified} unidentified`;
    this.element.replaceChildren(
      h("h2", {}, title),
      h(
        "p",
        {},
        `${g.sharedImages} shared image${g.sharedImages === 1 ? "" : "s"}`,
        g.categories.length ? ` (graded ${g.categories.join(", ")})` : "",
        `, ${g.sharedSeries} shared series. `,
        claimText(g),
        " ",
        current()?.force ? claim : null,
      ),
      h(
        "table",
        {},
        h("caption", {}, "Victim records in this group"),
        h("thead", {}, h("tr", {}, ...["Case", "Ref", "Age band", "Identified", "Record"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, ...g.victims.map((v, i) => this.victimRow(v, i))),
      ),
      h("h3", {}, "Outcomes for victims"),
      g.actions.length ? h("ul", {}, ...g.actions.map((a, i) => this.outcomeItem(a, i))) : h("p", {}, "Nothing yet."),
      h("h3", {}, "History"),
      g.history.length ? h("ol", { class: "history" }, ...g.history.map(stepItem)) : h("p", {}, "Nothing yet."),
      this.status,
    );
  }
}

/** The regional identification queue, unclaimed groups first. */
export async function victimsView(): Promise<HTMLElement> {
  const { victimGroups } = await run<{ victimGroups: { totalCount: number; edges: { node: VictimGroup }[] } }>("VictimGroups", { first: 50 });
  const cards = victimGroups.edges.map(({ node }, i) => new GroupCard(node, i).element);
  return h(
    "section",
    {},
    h("h1", {}, "Victim identification"),
    h(
      "p",
      { class: "muted" },
      `${victimGroups.totalCount} group${victimGroups.totalCount === 1 ? "" : "s"} of victim records that may be the same child, across forces. Images are never shown: only how many are shared and how they were graded.`,
    ),
    ...(cards.length ? cards : [h("p", {}, "No groups.")]),
  );
}
