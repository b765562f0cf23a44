import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileRow, planParts } from "../../scripts/cli/ledgerParts.js";

async function fileOf(text: string): Promise<{ file: string; bytes: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), "solvent-parts-"));
  const file = join(dir, "l.txt");
  await writeFile(file, text);
  return { file, bytes: await readFile(file) };
}

describe("cutting a ledger file into parts", () => {
  it("cuts after the first line end past every part size, so the parts rebuild the file and hold whole lines", async () => {
    const lines = [
      "userId,salt,USD",
      ...Array.from({ length: 2000 }, (_, i) => `user-${i},0x${"ab".repeat(16)},${i * 13}`),
    ];
    const { file, bytes } = await fileOf(`${lines.join("\n")}\n`);
    const plan = await planParts(file, bytes.length, 4096, "csv");
    expect(new TextDecoder().decode(plan.header!)).toBe("userId,salt,USD\n");
    expect(plan.parts.length).toBe(Math.ceil(bytes.length / 4096));
    expect(Buffer.concat(plan.parts.map((p) => bytes.subarray(p.start, p.end))).equals(bytes)).toBe(true);
    for (const [i, p] of plan.parts.entries()) {
      if (i < plan.parts.length - 1) expect(p.end - p.start).toBeGreaterThanOrEqual(4096);
      expect(bytes[p.end - 1]).toBe(0x0a);
      // firstLine counts the file's lines before the part.
      expect(p.firstLine).toBe(bytes.subarray(0, p.start).filter((b) => b === 0x0a).length);
      // Row r of part i (the publisher's numbering) is the file's row fileRow(...): the same line.
      const partLines = bytes.subarray(p.start, p.end).toString().split("\n");
      const r = i === 0 ? 5 : 3;
      expect(partLines[i === 0 ? r : r - 1]).toBe(lines[fileRow(plan, i, r, "csv")]);
    }
  });

  it("takes the first non-blank line as the CSV header, keeps a blank tail with the last part, and numbers NDJSON rows by line", async () => {
    const { file, bytes } = await fileOf(`\n\ncommitment,USD\n${"0x01,1\n".repeat(300)}\n\n\n`);
    const plan = await planParts(file, bytes.length, 1024, "csv");
    expect(new TextDecoder().decode(plan.header!)).toBe("commitment,USD\n");
    expect(plan.parts.at(-1)!.end).toBe(bytes.length);
    expect(bytes.subarray(plan.parts.at(-1)!.start, plan.parts.at(-1)!.end).toString().trim()).not.toBe("");

    const nd = await fileOf(
      Array.from({ length: 500 }, (_, i) => JSON.stringify({ commitment: `0x${i}`, balances: {} })).join("\n"),
    );
    const ndPlan = await planParts(nd.file, nd.bytes.length, 2048, "ndjson");
    expect(ndPlan.header).toBeNull();
    expect(ndPlan.parts.at(-1)!.end).toBe(nd.bytes.length); // no final line break: the last line is still in
    const p = ndPlan.parts[2]!;
    const first = nd.bytes.subarray(p.start, p.end).toString().split("\n")[0]!;
    expect(JSON.parse(first).commitment).toBe(`0x${fileRow(ndPlan, 2, 1, "ndjson") - 1}`);
  });

  it("keeps a file smaller than one part whole", async () => {
    const { file, bytes } = await fileOf("userId,salt,USD\nu,0x00,1");
    expect(await planParts(file, bytes.length, 1 << 20, "csv")).toEqual({
      header: new Uint8Array(Buffer.from("userId,salt,USD\n")),
      parts: [{ start: 0, end: bytes.length, firstLine: 0 }],
    });
  });
});
