/** One verification step as the page shows it (the core's CheckStep shape); no DOM, so pure page modules and their Node tests use it. */
export interface Step {
  id: string;
  status: "pass" | "fail" | "note";
  title: string;
  detail: string;
}
