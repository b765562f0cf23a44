/** Debian chromium for the browser suites (CHROMIUM_PATH overrides), and the folder their screenshots go to. */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";

export const SCREENSHOTS = join(process.cwd(), "test-results", "screenshots");
export const WIDE = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };
/** Each viewport a view is checked at, with the suffix of its screenshot's name. */
export const WIDTHS = [
  [WIDE, ""],
  [PHONE, "-phone"],
] as const;

/** A headless chromium, with the screenshot folder made. */
export async function launchChromium(): Promise<Browser> {
  await mkdir(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
}
