/** Renders verification steps (the core's CheckStep shape) as a ✓/✗ list with a verdict. */
import { h, srOnly } from "./dom.js";
import type { Step } from "./step.js";

export type { Step } from "./step.js";

const MARK = { pass: "✓", fail: "✗", note: "ℹ" } as const;
const SPOKEN = { pass: "Passed: ", fail: "Failed: ", note: "Note: " } as const;

export function checkList(steps: Step[], verdict: { valid: boolean; text: string }): HTMLElement {
  return h(
    "div",
    { class: `result ${verdict.valid ? "result-valid" : "result-invalid"}`, "data-valid": String(verdict.valid) },
    h(
      "p",
      { class: "verdict", "data-testid": "verdict" },
      h("span", { class: "mark", "aria-hidden": "true" }, verdict.valid ? "✓" : "✗"),
      " ",
      verdict.text,
    ),
    h(
      "ol",
      { class: "steps" },
      ...steps.map((s) =>
        h(
          "li",
          { class: `step step-${s.status}`, "data-step": s.id, "data-status": s.status },
          h("span", { class: "mark", "aria-hidden": "true" }, MARK[s.status]),
          h("div", {}, h("strong", {}, srOnly(SPOKEN[s.status]), s.title), h("p", { class: "detail" }, s.detail)),
        ),
      ),
    ),
  );
}

/** Placeholder while checks run, announced by the live region around it. */
export function checking(what: string): HTMLElement {
  return h("p", { class: "checking" }, `Checking ${what}…`);
}
