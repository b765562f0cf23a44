/**
 * A request body without a known length, in chunks of `chunk` bytes (no
 * Content-Length): small chunks make lines and UTF-8 sequences straddle
 * chunk borders. Text is sent as UTF-8.
 */
export function chunkedStream(body: string | Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  let at = 0;
  return new ReadableStream({
    pull(ctl) {
      if (at >= bytes.length) return ctl.close();
      ctl.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}
