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
  kind: string;
  force: string;
  at: string;
  referredTo: string | null;
  outcome: string | null;
}
interface VictimGroup {
  id: string;
  claim: { force: string; since: string; stale: boolean } | null;
  actions: VictimAction[];
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

function claimText(group: VictimGroup): string {
  if (!group.claim) return "Waiting in the queue";
  const stale = group.claim.stale ? " (untouched for too long: free to claim)" : "";
  return `Being worked by ${group.claim.force} since ${dateTime(group.claim.since)}${stale}`;
}

function actionText(a: VictimAction): string {
  if (a.kind === "IDENTIFIED") return `${dateTime(a.at)}: ${a.force} recorded an identification`;
  const to = a.referredTo ? agency(a.referredTo) : "?";
  return `${dateTime(a.at)}: ${a.force} referred to ${to} — ${words(a.outcome ?? "pending")}`;
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

  render(): void {
    const g = this.group;
    const mine = g.claim && !g.claim.stale && g.claim.force === current()?.force;
    const claim = h("button", { type: "button", class: "secondary" }, mine ? "Hand over" : "Claim");
    claim.addEventListener("click", () =>
      void (mine
        ? this.act("HandOverVictimGroup", {}, "Handed back to the queue.")
        : this.act("ClaimVictimGroup", {}, "Claimed: you are working on this group.")),
    );
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
        h("thead", {}, h("tr", {}, ...["Case", "Ref", "Age band", "Identified by its force", "Record"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, ...g.victims.map((v, i) => this.victimRow(v, i))),
      ),
      h("h3", {}, "Recorded"),
      g.actions.length ? h("ul", {}, ...g.actions.map((a) => h("li", {}, actionText(a)))) : h("p", {}, "Nothing yet."),
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
