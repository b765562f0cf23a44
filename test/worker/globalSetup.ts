/**
 * Node side of the workerd suite: one anvil with the demo world deployed,
 * and a controllable RPC proxy in front of it, shared by every test file.
 * Tests that change chain state revert it (evm_snapshot / evm_revert).
 */
import { privateKeyToAccount } from "viem/accounts";
import type { TestProject } from "vitest/node";
import { deployDemoWorld } from "../../scripts/demo/world.js";
import { startAnvil } from "../../scripts/lib/anvil.js";
import { startRpcProxy } from "../support/rpcProxy.js";
import { TEST_SIGNING_KEY } from "../support/testSecrets.js";

declare module "vitest" {
  interface ProvidedContext {
    demoWorld: string;
    rpcProxy: string;
  }
}

export default async function setup(project: TestProject) {
  const anvil = await startAnvil();
  const proxy = await startRpcProxy(anvil.rpcUrl);
  const world = await deployDemoWorld(anvil.rpcUrl, {
    ttlSeconds: 600,
    attestationSigner: privateKeyToAccount(TEST_SIGNING_KEY).address,
  });
  project.provide("demoWorld", JSON.stringify(world));
  project.provide("rpcProxy", JSON.stringify({ url: proxy.url, controlUrl: proxy.controlUrl }));
  return async () => {
    await proxy.close();
    await anvil.stop();
  };
}
