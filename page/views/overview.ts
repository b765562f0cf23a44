/** `#/`: every issuer with its ratio, status and the age of its latest attestation. */
import { attestationFromJson, parseKeysDocument, verifySignedAttestation, type Attestation, type KeysDocument } from "../../core/index.js";
import { keysDocument, latestAttestation, listIssuers, type AttestationAnswer, type IssuerSummary } from "../api.js";
import { h } from "../dom.js";
import { age, ratio, usd, utcTime } from "../format.js";
import { flagNames, issuerStatus, nowSeconds, STATUS_ORDER_NOTE, STATUS_RULES, type IssuerStatus } from "../issuerStatus.js";

interface Row {
  summary: IssuerSummary;
  answer: AttestationAnswer | null;
  attestation: Attestation | null;
  signature: { ok: boolean; text: string };
}

export function statusBadge(status: IssuerStatus, why: string): HTMLElement {
  return h("span", { class: `badge badge-${status}`, title: `${status}: ${why}`, "data-status": status }, status);
}

/** A relative time that keeps itself current (see main.ts's ticker). */
export function liveAge(seconds: bigint | string): HTMLElement {
  return h("time", { datetime: new Date(Number(seconds) * 1000).toISOString(), "data-age": String(seconds), title: utcTime(seconds) }, age(seconds));
}

async function signatureOf(answer: AttestationAnswer, keys: KeysDocument | null): Promise<{ attestation: Attestation | null; signature: Row["signature"] }> {
  let attestation: Attestation;
  try {
    attestation = attestationFromJson(answer.attestation);
  } catch (e) {
    return { attestation: null, signature: { ok: false, text: `unreadable: ${(e as Error).message}` } };
  }
  if (keys === null) return { attestation, signature: { ok: false, text: "keys document unavailable" } };
  const check = await verifySignedAttestation({ attestation, signature: answer.signature as `0x${string}`, keys });
  return { attestation, signature: check.ok ? { ok: true, text: "valid" } : { ok: false, text: check.reasons.join("; ") } };
}

export async function renderOverview(main: HTMLElement): Promise<void> {
  const [issuers, keysJson] = await Promise.all([listIssuers(), keysDocument().catch(() => null)]);
  let keys: KeysDocument | null = null;
  try {
    keys = keysJson === null ? null : parseKeysDocument(keysJson);
  } catch {
    keys = null;
  }
  const rows: Row[] = await Promise.all(
    issuers.map(async (summary): Promise<Row> => {
      const answer = summary.sequence === null ? null : await latestAttestation(summary.id);
      if (answer === null) return { summary, answer, attestation: null, signature: { ok: false, text: "no attestation" } };
      return { summary, answer, ...(await signatureOf(answer, keys)) };
    }),
  );
  const now = nowSeconds();

  const cards = h(
    "ul",
    { class: "issuer-cards" },
    ...rows.map(({ summary, attestation, signature }) => {
      const { status, why } = issuerStatus(attestation, now);
      const headingId = `issuer-${summary.id}`;
      return h(
        "li",
        { class: `issuer-card card status-${status}`, "data-issuer": summary.id, "aria-labelledby": headingId },
        h(
          "div",
          { class: "card-head" },
          h("h2", { id: headingId }, h("a", { href: `#/issuer/${encodeURIComponent(summary.id)}` }, summary.name)),
          statusBadge(status, why),
        ),
        h("p", { class: "card-ratio" }, h("span", { class: "muted" }, "Reserve ratio "), h("strong", { class: "ratio", "data-testid": "ratio" }, attestation ? ratio(attestation.ratioBps) : "—")),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "Issuer id"),
          h("dd", {}, h("code", {}, summary.id)),
          ...(attestation
            ? [
                h("dt", {}, "Counted reserves"),
                h("dd", {}, usd(attestation.reservesUsd, 0)),
                h("dt", {}, "Liabilities"),
                h("dd", {}, usd(attestation.liabilitiesUsd, 0)),
                h("dt", {}, "Latest attestation"),
                h("dd", { "data-testid": "age" }, `#${attestation.sequence}, `, liveAge(attestation.observedAt)),
                h("dt", {}, "Flags"),
                h("dd", { "data-testid": "flags" }, attestation.flags === 0n ? "none" : flagNames(attestation.flags).join(", ")),
                h("dt", {}, "Signature"),
                h("dd", { class: signature.ok ? "ok" : "bad", "data-testid": "signature" }, h("span", { "aria-hidden": "true" }, signature.ok ? "✓ " : "✗ "), signature.ok ? "valid, checked here" : `invalid: ${signature.text}`),
              ]
            : [h("dt", {}, "Latest attestation"), h("dd", {}, "none yet")]),
        ),
      );
    }),
  );

  main.replaceChildren(
    h("h1", { tabindex: -1 }, "Issuers"),
    h(
      "p",
      { class: "lede" },
      "Each issuer's reserves and liabilities, read at pinned blocks and signed by this publisher. ",
      "Signatures are checked here, in your browser, against the publisher's keys document.",
    ),
    rows.length === 0 ? h("p", {}, "No issuers are configured on this publisher.") : cards,
    h(
      "section",
      { class: "legend-box", "aria-labelledby": "status-legend" },
      h("h2", { id: "status-legend" }, "What the status means"),
      h(
        "dl",
        { class: "status-legend" },
        ...(["healthy", "flagged", "stale"] as const).flatMap((s) => [h("dt", {}, statusBadge(s, STATUS_RULES[s])), h("dd", {}, STATUS_RULES[s])]),
      ),
      h("p", { class: "muted" }, STATUS_ORDER_NOTE, " The ratio is counted reserves over liabilities; below 100 % raises UNDERCOLLATERALIZED."),
    ),
  );
}
