/**
 * The Solvent page: hash routes, one view each. Every check runs in the
 * browser with the shared core (../core), the same code as the Worker and CLI.
 */
import { h } from "./dom.js";
import { age } from "./format.js";
import { renderDependencies } from "./views/dependencies.js";
import { renderIssuer } from "./views/issuer.js";
import { renderOverview } from "./views/overview.js";
import { renderVerifyAttestation } from "./views/verifyAttestation.js";

type Route = { nav: string; title: string; render: (main: HTMLElement) => Promise<void> };

function route(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [head, a, b] = parts;
  if (head === undefined) return { nav: "overview", title: "Issuers", render: renderOverview };
  if (head === "issuer" && a) return { nav: "overview", title: a, render: (m) => renderIssuer(m, a, b ?? null) };
  if (head === "dependencies") return { nav: "dependencies", title: "Dependency map", render: renderDependencies };
  if (head === "verify-balance")
    return {
      nav: "verify-balance",
      title: "Verify my balance",
      // Loaded on demand: it carries the private-proof verifier (SPEC §11), which no other view needs.
      render: async (m) => (await import("./views/verifyBalance.js")).renderVerifyBalance(m, a ?? null, b ?? null),
    };
  if (head === "verify-attestation")
    return { nav: "verify-attestation", title: "Verify an attestation", render: renderVerifyAttestation };
  return {
    nav: "",
    title: "Not found",
    render: async (m) =>
      m.replaceChildren(
        h("h1", { tabindex: -1 }, "Page not found"),
        h("p", {}, h("a", { href: "#/" }, "See all issuers")),
      ),
  };
}

let navigation = 0;

/** Renders the route of the current hash. `quiet` (a timed refresh) keeps the scroll position and focus. */
async function show(quiet = false): Promise<void> {
  const main = document.getElementById("main")!;
  const current = ++navigation;
  const r = route(location.hash);
  document.title = `${r.title} · Solvent`;
  for (const link of document.querySelectorAll<HTMLAnchorElement>("[data-nav]")) {
    if (link.dataset.nav === r.nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  main.setAttribute("aria-busy", "true");
  if (!quiet) main.replaceChildren(h("p", { class: "checking" }, "Loading…"));
  // Render off-screen so a slow, superseded navigation never overwrites a newer one.
  const staging = h("div");
  try {
    await r.render(staging);
  } catch (e) {
    staging.replaceChildren(
      h("h1", { tabindex: -1 }, "Something went wrong"),
      h("p", { class: "bad", role: "alert" }, e instanceof Error ? e.message : String(e)),
      h("p", {}, h("a", { href: "#/" }, "Back to all issuers")),
    );
  }
  if (current !== navigation) return;
  main.replaceChildren(...staging.childNodes);
  main.removeAttribute("aria-busy");
  if (quiet) return;
  window.scrollTo(0, 0);
  // Move focus to the new page's heading so keyboard and screen-reader users land on it.
  if (document.body.dataset.started) main.querySelector<HTMLElement>("h1")?.focus();
  document.body.dataset.started = "true";
  document.body.dataset.ready = "true";
}

/** In-page links ("On this page") must not change the hash, which is the route. */
document.addEventListener("click", (event) => {
  const link = (event.target as HTMLElement | null)?.closest?.("a[data-scroll]");
  if (!(link instanceof HTMLAnchorElement)) return;
  event.preventDefault();
  const target = document.getElementById(link.getAttribute("href")!.slice(1));
  if (!target) return;
  target.scrollIntoView({ behavior: "smooth", block: "start" });
  const heading = target.querySelector<HTMLElement>("h1, h2");
  heading?.setAttribute("tabindex", "-1");
  heading?.focus({ preventScroll: true });
});

/** Keeps "2 min ago" texts current. */
setInterval(() => {
  for (const el of document.querySelectorAll<HTMLElement>("[data-age]")) el.textContent = age(el.dataset.age!);
}, 10_000);

/** The overview holds no input, so it refreshes itself: statuses turn stale, new attestations arrive. */
setInterval(() => {
  if (
    route(location.hash).nav === "overview" &&
    location.hash.replace(/^#\/?/, "") === "" &&
    document.visibilityState === "visible"
  )
    void show(true);
}, 60_000);

window.addEventListener("hashchange", () => {
  delete document.body.dataset.ready;
  void show();
});
void show();
