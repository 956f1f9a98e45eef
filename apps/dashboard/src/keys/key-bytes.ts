const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** keyBytes encodes a key or value typed by the user as UTF-8. */
export function keyBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** isText tells whether `bytes` are valid UTF-8 without control characters other than whitespace. */
export function isText(bytes: Uint8Array): boolean {
  try {
    const s = strictDecoder.decode(bytes);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
    return !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(s);
  } catch {
    return false;
  }
}

/** displayBytes renders bytes as text when they are text, else as escaped hex (`\x00\xff`). */
export function displayBytes(bytes: Uint8Array): string {
  if (isText(bytes)) return strictDecoder.decode(bytes);
  return Array.from(bytes, (b) => `\\x${b.toString(16).padStart(2, "0")}`).join("");
}

/** textOf decodes UTF-8 leniently (invalid bytes become U+FFFD), for keys used as navigation paths. */
export function textOf(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/**
 * prefixEnd is the range end that selects every key starting with `prefix` (etcd's `--prefix`): the prefix
 * with its last byte below 0xff incremented and the rest dropped; `[0]` (every key) for an empty prefix or
 * one made only of 0xff bytes.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const b = prefix[i]!;
    if (b < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = b + 1;
      return end;
    }
  }
  return new Uint8Array([0]);
}
