/**
 * Node side of the workerd suite: one anvil with the demo world deployed,
 * a controllable RPC proxy in front of it, and a webhook receiver for the
 * alert tests (test/support/webhookReceiver.ts), shared by every test file.
 * Tests that change chain state revert it (evm_snapshot / evm_revert).
 * A second anvil with its own demo world is for test/worker/relayer.test.ts
 * alone: it moves that chain's clock forward (evm_increaseTime), which the
 * shared one must never see.
 */
import { privateKeyToAccount } from "viem/accounts";
import type { TestProject } from "vitest/node";
import { deployDemoWorld } from "../../scripts/demo/world.js";
import { startAnvil } from "../../scripts/lib/anvil.js";
import { startRpcProxy } from "../support/rpcProxy.js";
import { TEST_SIGNING_KEY } from "../support/testSecrets.js";
import { startWebhookReceiver } from "../support/webhookReceiver.js";

declare module "vitest" {
  interface ProvidedContext {
    demoWorld: string;
    relayWorld: string;
    rpcProxy: string;
    webhookReceiver: string;
  }
}

export default async function setup(project: TestProject) {
  const [anvil, relayAnvil] = await Promise.all([startAnvil(), startAnvil()]);
  const proxy = await startRpcProxy(anvil.rpcUrl);
  const receiver = await startWebhookReceiver();
  const deploy = (rpcUrl: string) =>
    deployDemoWorld(rpcUrl, { ttlSeconds: 600, attestationSigner: privateKeyToAccount(TEST_SIGNING_KEY).address });
  const [world, relayWorld] = await Promise.all([deploy(anvil.rpcUrl), deploy(relayAnvil.rpcUrl)]);
  project.provide("demoWorld", JSON.stringify(world));
  project.provide("relayWorld", JSON.stringify(relayWorld));
  project.provide("rpcProxy", JSON.stringify({ url: proxy.url, controlUrl: proxy.controlUrl }));
  project.provide(
    "webhookReceiver",
    JSON.stringify({ url: receiver.url, controlUrl: receiver.controlUrl, requestsUrl: receiver.requestsUrl }),
  );
  return async () => {
    await receiver.close();
    await proxy.close();
    await anvil.stop();
    await relayAnvil.stop();
  };
}
