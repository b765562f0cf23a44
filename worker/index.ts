import { Hono } from "hono";

const app = new Hono();

app.get("/health", (c) => c.json({ ok: true, service: "solvent" }));

export default {
  fetch: app.fetch,
  async scheduled(_controller: ScheduledController, _env: unknown, _ctx: ExecutionContext): Promise<void> {
    // The publishing tick is wired here once the pipeline exists.
  },
} satisfies ExportedHandler;
