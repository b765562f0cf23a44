import type { AlertDestinationConfig } from "../../core/config/alertsSchema.js";
import { fillPlaceholders } from "../../core/config/secretRules.js";
import { namedSecret } from "../config/secrets.js";

/** A destination named without anything secret: its kind and its URL's host (the schema keeps the host literal). */
export interface DestinationLabel {
  kind: AlertDestinationConfig["kind"];
  host: string;
}

export function destinationLabel(destination: AlertDestinationConfig): DestinationLabel {
  return { kind: destination.kind, host: urlHost(destination.url) };
}

/** The host (with port) of an http(s) URL, read before any placeholder is filled. */
export function urlHost(url: string): string {
  return /^https?:\/\/([^/?#\s]+)/.exec(url)?.[1]?.toLowerCase() ?? "(invalid)";
}

/**
 * The destination's URL with every `${NAME}` filled from Worker secrets. A
 * missing secret is an error naming the placeholder, never the URL.
 */
export function destinationUrl(destination: AlertDestinationConfig, secrets: Record<string, unknown>): string {
  return fillPlaceholders(destination.url, (name) => {
    const value = namedSecret(secrets, name);
    if (value === null) throw new MissingSecretError(name);
    return value;
  });
}

/** The HMAC key of a signed webhook, from the Worker secret it names. */
export function webhookSecret(name: string, secrets: Record<string, unknown>): string {
  const value = namedSecret(secrets, name);
  if (value === null) throw new MissingSecretError(name);
  return value;
}

export class MissingSecretError extends Error {
  override readonly name = "MissingSecretError";
  constructor(readonly secretName: string) {
    super(`Worker secret ${secretName} is not set (wrangler secret put ${secretName})`);
  }
}

/**
 * `text` with every occurrence of `url` (and of its path and query, which may
 * carry tokens) replaced by its host, so an error message is safe to log and
 * store.
 */
export function redactUrl(text: string, url: string): string {
  const host = urlHost(url);
  let out = text.split(url).join(`https://${host}/…`);
  const rest = url.replace(/^https?:\/\/[^/?#]+/, "");
  if (rest.length > 1) out = out.split(rest).join("/…");
  return out;
}
