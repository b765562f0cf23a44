/**
 * The issuer page's "Checked by users" section (issue #17): how many users
 * of the attested ledger fetched their proof, and the chance that an
 * omission would have gone unnoticed, with what the figure does not tell.
 */
import { ledgerCoverage } from "../api.js";
import { codes, h, scrollTable } from "../dom.js";
import { coverageView } from "../verificationCoverage.js";
import { foldable } from "./reportSections.js";

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

function caveats(): HTMLElement {
  return codes(
    "What this does and does not tell",
    h(
      "p",
      {},
      "The count is the publisher's own: it counts distinct users whose proof it served, and fetching a proof is not checking it. ",
      "A publisher could inflate it, so treat it as at most how many looked, never as an audit. ",
      "The chances assume the users who look are a random sample of all users; an issuer that knows who never looks could leave exactly those out, and no count shows that. ",
      "The simpler bound (1 − share)^checks is never below the exact chance.",
    ),
    h("p", {}, "Nothing about who asked is kept: only which commitments of the ledger had their proof served."),
  );
}

/** The section for the ledger `ledgerId` of `issuerId`; `verifyLink` invites a reader to add their own check. */
export async function verificationCoverageSection(
  issuerId: string,
  ledgerId: string,
  verifyLink: string | null,
): Promise<HTMLElement> {
  const section = (...children: (Node | null)[]) =>
    h(
      "section",
      { id: "checked", "aria-labelledby": "checked-h" },
      h("h2", { id: "checked-h" }, "Checked by users"),
      ...children,
    );
  let entry;
  try {
    entry = await ledgerCoverage(issuerId, ledgerId);
  } catch (e) {
    return section(
      h(
        "p",
        { class: "muted", "data-testid": "checked-sentence" },
        `The publisher's count of checks could not be fetched: ${describe(e)}`,
      ),
    );
  }
  if (entry === null) {
    return section(
      h(
        "p",
        { class: "muted", "data-testid": "checked-sentence" },
        "The publisher lists no count of checks for this ledger.",
      ),
    );
  }
  let view;
  try {
    view = coverageView(entry);
  } catch (e) {
    return section(h("p", { class: "bad", "data-testid": "checked-sentence" }, describe(e)));
  }
  return section(
    h(
      "p",
      {
        class: "checked-verdict",
        "data-testid": "checked-sentence",
        "data-checked": String(view.checked),
        "data-leaves": String(view.leafCount),
      },
      view.sentence,
      " ",
      view.implication,
    ),
    // Folded, like the page's other tables, so the issuer page stays short on a phone: the sentence above carries the 1 % figure.
    foldable(
      "The chance for 0.1 %, 1 % and 5 % of users left out",
      scrollTable(
        "Chance that leaving users out goes unnoticed",
        ["Users left out", "That is", "Chance nobody noticed", "Upper bound"],
        view.rows.map((r) => [r.share, r.omitted, h("strong", {}, r.chance), r.bound]),
        { numeric: [1, 2, 3], stack: true },
      ),
      verifyLink
        ? h(
            "p",
            {},
            "Each check makes an omission harder to hide. ",
            h("a", { href: verifyLink }, "Check your own balance"),
          )
        : null,
      caveats(),
    ),
  );
}
