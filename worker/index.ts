import { createApp } from "./api/app.js";
import type { Env } from "./env.js";

export { IssuerPublisher } from "./publisher/issuerPublisher.js";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller: ScheduledController, _env: Env, _ctx: ExecutionContext): Promise<void> {
    // The publishing tick is wired here once the pipeline exists.
  },
} satisfies ExportedHandler<Env>;
