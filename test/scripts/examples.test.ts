/** docs/examples hold what the CLI writes, and it still checks: a valid configuration, a statement its custodian signed, a holder's proof. */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../core/config/parseConfig.js";
import { parseCustodianStatement, recoverCustodianStatementSigner } from "../../core/custodianStatement.js";
import { verifyOwnershipSignature } from "../../core/ownershipProof.js";

const read = async (name: string) => JSON.parse(await readFile(`docs/examples/${name}`, "utf8"));

describe("docs/examples", () => {
  it("issuer.config.json is valid, and its holder's ownership proof verifies", async () => {
    const config = parseConfig(await read("issuer.config.json"));
    const issuer = config.issuers[0]!;
    const holder = issuer.reserves.holders[0]!;
    expect(holder.ownership.kind).toBe("eoa");
    const signature = (holder.ownership as { signature: `0x${string}` }).signature;
    expect(
      await verifyOwnershipSignature(
        { issuerId: issuer.id, address: holder.address, chainId: holder.chainId },
        signature,
      ),
    ).toBe(true);
  });

  it("statement.json is signed by a registered signer of the configured custodian, for a configured account", async () => {
    const config = parseConfig(await read("issuer.config.json"));
    const body = await read("statement.json");
    const statement = parseCustodianStatement(body.statement);
    const custodian = config.issuers[0]!.reserves.custodians.find((c) => c.id === statement.custodian)!;
    expect(custodian.accounts).toContainEqual({ account: statement.account, asset: statement.asset });
    expect(custodian.signers).toContain(await recoverCustodianStatementSigner(statement, body.signature));
    expect(statement.amount).toBe(1_250_000_500_000n);
  });
});
